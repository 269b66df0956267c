-- Opening an incident: incident-management's one way to write a new incident,
-- used by its POST /api/v1/incidents and, while it is down, by alert-ingestion's
-- fallback (the one documented exception to "each table has one writer": the
-- same code, not a copy). Installed by migration 0006_one_owner.
--
-- Idempotent on the id: a retried create returns false and changes nothing.
-- The new incident waits for assignment (needs_assignment); NOTIFY
-- incident_opened wakes incident-management's engine on every replica, which
-- asks oncall-service and pages (the engine's poll is the safety net for a
-- lost notification).
CREATE OR REPLACE FUNCTION open_incident(
    p_id uuid, p_title text, p_description text, p_service text, p_team text, p_severity text,
    p_origin text, p_actor text, p_now timestamptz
) RETURNS boolean AS $$
BEGIN
    INSERT INTO incidents (id, title, description, service, team, severity, status, origin, needs_assignment,
                           escalation_level, escalation_cycle, dependency_failures, version, created_at, updated_at)
    VALUES (p_id, p_title, p_description, p_service, p_team, p_severity, 'open', p_origin, true,
            0, 0, 0, 1, p_now, p_now)
    ON CONFLICT (id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    INSERT INTO incident_timeline (incident_id, event_type, actor, message, data, created_at)
    VALUES (p_id, 'created', p_actor,
            'Incident opened: ' || p_title || ' (' || p_severity || ', service ' || p_service || ')'
                || CASE WHEN p_origin = 'ingestion_fallback'
                        THEN ' by alert-ingestion while incident-management was unavailable' ELSE '' END,
            json_build_object('severity', p_severity, 'service', p_service, 'team', p_team, 'origin', p_origin),
            p_now);
    PERFORM pg_notify('incident_opened', p_id::text);
    RETURN true;
END
$$ LANGUAGE plpgsql

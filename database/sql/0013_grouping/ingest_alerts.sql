-- The dedup and correlation rule: its one implementation. Installed by
-- migration 0013_grouping (before it by 0010_correlation_off and 0006_one_owner);
-- its tests are database/tests/test_ingest_rule.py and test_grouping.py.
--
-- Called by alert-ingestion with the trigger events that arrived together in
-- one process (group commit: one transaction, one WAL flush for them all; a
-- quiet moment gives a batch of one). For each alert, in order:
--
-- | # | the alert's (dedup scope, fingerprint) has...            | and (service, severity) has...                       | outcome                     |
-- |---|-----------------------------------------------------------|------------------------------------------------------|-----------------------------|
-- | 1 | an unresolved alert whose incident is not resolved        | (anything)                                           | deduplicated: that alert's  |
-- |   | (or is still being opened)                                |                                                      | count and last-seen time go |
-- |   |                                                           |                                                      | up; no new row              |
-- | 2 | no such alert                                             | an incident opened by an alert within the service's  | correlated into the newest  |
-- |   |                                                           | window, not resolved, no resolve owed to it, whose   | such incident               |
-- |   |                                                           | opener has the same values of the service's grouping |                             |
-- |   |                                                           | fields, and (when the service forbids joining        |                             |
-- |   |                                                           | acknowledged incidents) still open                   |                             |
-- |   |                                                           | (a window of 0: correlation is off, never this row)  |                             |
-- | 3 | no such alert                                             | no such incident                                     | created: a new incident id, |
-- |   |                                                           |                                                      | and a 'create' owed for it  |
--
-- The service's settings come from oncall-service's view service_grouping
-- (correlation_window_minutes, NULL: p_default_window_minutes, ingestion's
-- CORRELATION_WINDOW_MINUTES; grouping_fields; join_acknowledged). A service
-- with no row there takes the default window, no fields, joining allowed.
--
-- Every new alert row stores why it is in its incident, worded here when the
-- decision is made ("first alert", "same service and severity within 5 min of
-- ..."), and the alert it was matched with. An alert that joins an incident
-- already acknowledged (or in progress) owes incident-management an
-- 'alert_joined' (its timeline says so and the assignee gets a notice).
--
-- Unresolved alerts whose incident a responder has resolved are resolved on
-- the way (row 1 looks past them): an incident's alerts end with it.
--
-- The incident is not written here: incident-management owns that table.
-- Row 3 reserves the incident's id and queues the 'create' that ingestion
-- then sends to incident-management (or, while it is down, performs through
-- open_incident(), incident-management's own function), after this commits.
-- Incidents are read through incident-management's view incident_states; one
-- being opened is not in it yet and counts as open.
--
-- Races: every call takes transaction-scoped advisory locks, all fingerprint
-- locks then all (service, severity) locks, each set in key order, so calls
-- never deadlock and the queries after a lock see what the previous holder
-- committed (READ COMMITTED: a fresh snapshot per statement). regroup_alerts()
-- (merge and split) takes the same locks the same way. The partial unique
-- index ux_alerts_open_opener refuses a second open incident for one
-- fingerprint should the locks ever be bypassed.
DROP FUNCTION IF EXISTS ingest_alerts(uuid[], uuid[], text[], text[], text[], text[], text[], text[], json[], text[],
                                      text[], timestamptz[], json[], timestamptz, timestamptz);

-- The values of an alert's grouping fields, as one comparable object:
-- 'source', 'message', or 'labels.<name>' (a missing label is null).
CREATE OR REPLACE FUNCTION alert_grouping_values(p_fields text[], p_source text, p_message text, p_labels json)
RETURNS jsonb AS $$
    SELECT coalesce(jsonb_object_agg(f, CASE
               WHEN f = 'source' THEN p_source
               WHEN f = 'message' THEN p_message
               WHEN left(f, 7) = 'labels.' THEN p_labels ->> substr(f, 8)
           END), '{}'::jsonb)
      FROM unnest(p_fields) AS t(f)
$$ LANGUAGE sql IMMUTABLE
;

CREATE OR REPLACE FUNCTION ingest_alerts(
    p_ids uuid[], p_integration_ids uuid[], p_scopes text[], p_formats text[], p_sources text[],
    p_services text[], p_severities text[], p_messages text[], p_labels json[], p_fingerprints text[],
    p_dedup_keys text[], p_event_timestamps timestamptz[], p_payloads json[], p_now timestamptz,
    p_default_window_minutes double precision
) RETURNS TABLE (ord int, outcome text, incident uuid, owed uuid, alert uuid) AS $$
DECLARE
    k bigint;
    i int;
    v_incident uuid;
    v_alert uuid;
    v_stale boolean;
    v_outcome text;
    v_owed uuid;
    v_window double precision;
    v_fields text[];
    v_join_acknowledged boolean;
    v_values jsonb;
    v_opener uuid;
    v_opener_message text;
    v_incident_status text;
    v_reason text;
BEGIN
    FOR k IN SELECT DISTINCT hashtextextended('fp' || chr(31) || s || chr(31) || f, 0)
               FROM unnest(p_scopes, p_fingerprints) AS t(s, f) ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    FOR k IN SELECT DISTINCT hashtextextended('svc' || chr(31) || sv || chr(31) || se, 0)
               FROM unnest(p_services, p_severities) AS t(sv, se) ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        v_owed := NULL;
        v_alert := NULL;
        -- Row 1. Loops at most twice: the UPDATE resolves every stale alert of the fingerprint.
        LOOP
            SELECT a.id, a.incident_id, coalesce(s.status = 'resolved', false) INTO v_alert, v_incident, v_stale
              FROM alerts a LEFT JOIN incident_states s ON s.id = a.incident_id
             WHERE a.dedup_scope = p_scopes[i] AND a.fingerprint = p_fingerprints[i] AND a.status <> 'resolved'
             ORDER BY a.received_at DESC LIMIT 1;
            EXIT WHEN v_incident IS NULL OR NOT v_stale;
            UPDATE alerts a SET status = 'resolved', resolved_at = p_now
              FROM incident_states s
             WHERE a.dedup_scope = p_scopes[i] AND a.fingerprint = p_fingerprints[i] AND a.status <> 'resolved'
               AND s.id = a.incident_id AND s.status = 'resolved';
        END LOOP;
        IF v_incident IS NOT NULL THEN
            -- The incident is read back from the row: a merge may have moved it since the SELECT.
            UPDATE alerts SET trigger_count = trigger_count + 1, last_seen_at = p_now
             WHERE id = v_alert RETURNING incident_id INTO v_incident;
            ord := i; outcome := 'deduplicated'; incident := v_incident; owed := NULL; alert := v_alert;
            RETURN NEXT;
            CONTINUE;
        END IF;
        SELECT g.correlation_window_minutes, g.grouping_fields, g.join_acknowledged
          INTO v_window, v_fields, v_join_acknowledged
          FROM service_grouping g WHERE g.name = p_services[i];
        IF NOT FOUND THEN
            v_fields := '{}'; v_join_acknowledged := true;
        END IF;
        v_window := coalesce(v_window, p_default_window_minutes, 0);
        v_fields := coalesce(v_fields, '{}');
        v_values := alert_grouping_values(v_fields, p_sources[i], p_messages[i], p_labels[i]);
        v_opener := NULL;
        -- Row 2.
        IF v_window > 0 THEN
            SELECT a.id, a.incident_id, a.message, coalesce(s.status, 'open')
              INTO v_opener, v_incident, v_opener_message, v_incident_status
              FROM alerts a LEFT JOIN incident_states s ON s.id = a.incident_id
             WHERE a.action = 'created' AND a.service = p_services[i] AND a.severity = p_severities[i]
               AND a.received_at >= p_now - make_interval(secs => v_window * 60)
               AND coalesce(s.status, 'open') <> 'resolved'
               AND (v_join_acknowledged OR coalesce(s.status, 'open') = 'open')
               AND (v_fields = '{}' OR alert_grouping_values(v_fields, a.source, a.message, a.labels) = v_values)
               AND NOT EXISTS (SELECT 1 FROM alert_incident_actions x
                                WHERE x.incident_id = a.incident_id AND x.action = 'resolve'
                                  AND x.status = 'pending')
             ORDER BY a.received_at DESC LIMIT 1;
        END IF;
        IF v_opener IS NOT NULL THEN
            v_outcome := 'correlated';
            v_reason := CASE WHEN v_fields = '{}' THEN 'same service and severity'
                             ELSE 'same service, severity and ' || (
                                 SELECT string_agg(f || '=' || coalesce(v_values ->> f, '(none)'), ', ' ORDER BY n)
                                   FROM unnest(v_fields) WITH ORDINALITY AS t(f, n))
                        END
                        || ' within ' || rtrim(rtrim(to_char(v_window, 'FM999999990.99'), '0'), '.') || ' min of "'
                        || left(v_opener_message, 120) || '"';
            IF v_incident_status IN ('acknowledged', 'in_progress') THEN
                v_reason := v_reason || ' (joined while the incident was ' || replace(v_incident_status, '_', ' ') || ')';
                v_owed := gen_random_uuid();
                INSERT INTO alert_incident_actions (id, incident_id, action, status, attempts, next_attempt_at,
                                                    created_at, updated_at, alert_id)
                VALUES (v_owed, v_incident, 'alert_joined', 'pending', 0, p_now, p_now, p_now, p_ids[i]);
            END IF;
        ELSE
            -- Row 3.
            v_outcome := 'created';
            v_reason := 'first alert';
            v_incident := gen_random_uuid();
            v_owed := gen_random_uuid();
            INSERT INTO alert_incident_actions (id, incident_id, action, status, attempts, next_attempt_at,
                                                created_at, updated_at)
            VALUES (v_owed, v_incident, 'create', 'pending', 0, p_now, p_now, p_now);
        END IF;
        INSERT INTO alerts (id, incident_id, integration_id, dedup_scope, format, source, service, severity,
                            message, labels, fingerprint, dedup_key, status, action, event_timestamp,
                            received_at, payload, trigger_count, last_seen_at, reason, reason_alert_id)
        VALUES (p_ids[i], v_incident, p_integration_ids[i], p_scopes[i], p_formats[i], p_sources[i],
                p_services[i], p_severities[i], p_messages[i], p_labels[i], p_fingerprints[i], p_dedup_keys[i],
                'triggered', v_outcome, p_event_timestamps[i], p_now, p_payloads[i], 1, p_now, v_reason, v_opener);
        ord := i; outcome := v_outcome; incident := v_incident; owed := v_owed; alert := p_ids[i];
        RETURN NEXT;
    END LOOP;
END
$$ LANGUAGE plpgsql
;

-- Merge and split: move alerts into another incident, saying why. Called by
-- incident-management (which owns incidents, not alerts) in the transaction
-- that resolves the merged incidents or opens the split-out one; it runs with
-- its owner's rights (SECURITY DEFINER, granted by the migration) and writes
-- only the alerts' incident and reason. p_from[i] is a source incident and
-- p_reasons[i] the reason its alerts get; p_alert_ids NULL moves all of their
-- alerts (merge), else only those (split). Takes ingest_alerts()'s advisory
-- locks in its order, so an alert arriving meanwhile is decided either before
-- (and moved with the others) or after (and sees where they went): it lands
-- in exactly one incident. Returns the alerts moved.
CREATE OR REPLACE FUNCTION regroup_alerts(p_from uuid[], p_reasons text[], p_alert_ids uuid[], p_to uuid)
RETURNS TABLE (alert uuid, from_incident uuid) AS $$
DECLARE
    k bigint;
BEGIN
    FOR k IN SELECT DISTINCT hashtextextended('fp' || chr(31) || a.dedup_scope || chr(31) || a.fingerprint, 0)
               FROM alerts a
              WHERE a.incident_id = ANY (p_from) AND (p_alert_ids IS NULL OR a.id = ANY (p_alert_ids))
              ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    FOR k IN SELECT DISTINCT hashtextextended('svc' || chr(31) || a.service || chr(31) || a.severity, 0)
               FROM alerts a
              WHERE a.incident_id = ANY (p_from) AND (p_alert_ids IS NULL OR a.id = ANY (p_alert_ids))
              ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(k);
    END LOOP;
    -- Read again under the locks: an alert that joined a source incident while
    -- they were taken moves too (its fingerprint's lock is held by now only if
    -- it was seen; a repeat only counts on a row already seen).
    RETURN QUERY
    UPDATE alerts a SET incident_id = p_to, reason = r.reason, reason_alert_id = NULL
      FROM unnest(p_from, p_reasons) AS r(incident_id, reason)
     WHERE a.incident_id = r.incident_id AND (p_alert_ids IS NULL OR a.id = ANY (p_alert_ids))
    RETURNING a.id, r.incident_id;
END
$$ LANGUAGE plpgsql
;

-- The dedup and correlation rule: its one implementation. Installed by
-- migration 0010_correlation_off (first by 0006_one_owner, whose text differs
-- only where p_since is NULL); its tests are database/tests/test_ingest_rule.py.
--
-- Called by alert-ingestion with the trigger events that arrived together in
-- one process (group commit: one transaction, one WAL flush for them all; a
-- quiet moment gives a batch of one). For each alert, in order:
--
-- | # | the alert's (dedup scope, fingerprint) has...            | and (service, severity) has...                       | outcome                     |
-- |---|-----------------------------------------------------------|------------------------------------------------------|-----------------------------|
-- | 1 | an unresolved alert whose incident is not resolved        | (anything)                                           | deduplicated into it        |
-- |   | (or is still being opened)                                |                                                      |                             |
-- | 2 | no such alert                                             | an incident opened by an alert since p_since that is | correlated into the newest  |
-- |   |                                                           | not resolved and has no resolve owed to it           | such incident               |
-- |   |                                                           | (p_since NULL: correlation is off, never this row)   |                             |
-- | 3 | no such alert                                             | no such incident                                     | created: a new incident id, |
-- |   |                                                           |                                                      | and a 'create' owed for it  |
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
-- committed (READ COMMITTED: a fresh snapshot per statement). The partial
-- unique index ux_alerts_open_opener refuses a second open incident for one
-- fingerprint should the locks ever be bypassed.
CREATE OR REPLACE FUNCTION ingest_alerts(
    p_ids uuid[], p_integration_ids uuid[], p_scopes text[], p_formats text[], p_sources text[],
    p_services text[], p_severities text[], p_messages text[], p_labels json[], p_fingerprints text[],
    p_dedup_keys text[], p_event_timestamps timestamptz[], p_payloads json[], p_now timestamptz,
    p_since timestamptz
) RETURNS TABLE (ord int, outcome text, incident uuid, owed uuid) AS $$
DECLARE
    k bigint;
    i int;
    v_incident uuid;
    v_stale boolean;
    v_outcome text;
    v_owed uuid;
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
        -- Row 1. Loops at most twice: the UPDATE resolves every stale alert of the fingerprint.
        LOOP
            SELECT a.incident_id, coalesce(s.status = 'resolved', false) INTO v_incident, v_stale
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
            v_outcome := 'deduplicated';
        ELSE
            -- Row 2.
            SELECT a.incident_id INTO v_incident
              FROM alerts a LEFT JOIN incident_states s ON s.id = a.incident_id
             WHERE p_since IS NOT NULL
               AND a.action = 'created' AND a.service = p_services[i] AND a.severity = p_severities[i]
               AND a.received_at >= p_since AND coalesce(s.status, 'open') <> 'resolved'
               AND NOT EXISTS (SELECT 1 FROM alert_incident_actions x
                                WHERE x.incident_id = a.incident_id AND x.action = 'resolve'
                                  AND x.status = 'pending')
             ORDER BY a.received_at DESC LIMIT 1;
            IF v_incident IS NOT NULL THEN
                v_outcome := 'correlated';
            ELSE
                -- Row 3.
                v_outcome := 'created';
                v_incident := gen_random_uuid();
                v_owed := gen_random_uuid();
                INSERT INTO alert_incident_actions (id, incident_id, action, status, attempts, next_attempt_at,
                                                    created_at, updated_at)
                VALUES (v_owed, v_incident, 'create', 'pending', 0, p_now, p_now, p_now);
            END IF;
        END IF;
        INSERT INTO alerts (id, incident_id, integration_id, dedup_scope, format, source, service, severity,
                            message, labels, fingerprint, dedup_key, status, action, event_timestamp,
                            received_at, payload)
        VALUES (p_ids[i], v_incident, p_integration_ids[i], p_scopes[i], p_formats[i], p_sources[i],
                p_services[i], p_severities[i], p_messages[i], p_labels[i], p_fingerprints[i], p_dedup_keys[i],
                'triggered', v_outcome, p_event_timestamps[i], p_now, p_payloads[i]);
        ord := i; outcome := v_outcome; incident := v_incident; owed := v_owed;
        RETURN NEXT;
    END LOOP;
END
$$ LANGUAGE plpgsql
;

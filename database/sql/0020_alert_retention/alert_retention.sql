-- The alerts' retention: a month of alerts (alerts_pYYYYMM, migration
-- 0019_alert_partitions) emptied and then dropped once it is wholly older than
-- the retention and none of its alerts is still needed. Installed by migration
-- 0020_alert_retention; called by alert-ingestion's partitions worker
-- (workers/partitions.py); tests in database/tests/test_alert_retention.py and
-- the service's tests/integration/test_alert_partitions.py.
--
-- The same two steps as the timeline's (0018_retention/timeline_partitions.sql,
-- which says why, with the locks measured): TRUNCATE, which locks the month's
-- partition only, frees its files when it commits; DROP TABLE without DETACH
-- then holds ACCESS EXCLUSIVE on alerts for a catalog change only (a detach
-- would turn the partition's share of the foreign key to integrations into one
-- of its own). Both run with the rights of the migration role, which owns
-- alerts (alert_ingestion may not drop or truncate them itself), one advisory
-- lock (alerts_add_partitions's) serializes them across replicas, and
-- lock_timeout bounds how long they queue in front of ingestion: a call that
-- times out drops nothing and the next cycle tries again.
--
-- A month is kept while it holds
-- - an alert of an incident that is not resolved, or was resolved after the
--   cutoff (its alerts stay whole while the incident is within the retention),
--   or that does not exist (yet): an alert names its incident before
--   incident-management has opened it (a create still owed), and such an alert
--   is kept rather than lost;
-- - an open opener (alert_open_openers): TRUNCATE and DROP fire no row trigger,
--   so dropping one would leave its guard row behind, and the fingerprint could
--   never open an incident again. ingest_alerts() resolves an opener whose
--   incident a responder resolved when its fingerprint next fires; until then
--   it holds its month.
-- Both only ever stop holding: resolved is final (incident-management's
-- domain/state.py), an alert is only ever added to the current month, and
-- regroup_alerts() moves alerts of open incidents only; so the check made before
-- the TRUNCATE or DROP stays true without holding a lock across it. Nothing
-- else points at an alert with a foreign key (alert_incident_actions.alert_id,
-- alerts.reason_alert_id and alert_open_openers.alert_id are plain ids; the
-- first two are read as history, the last is the check above).

-- The alerts' monthly partitions that ended at or before p_cutoff and hold nothing still
-- needed (above), oldest first. Called by the two functions below (with their owner's
-- rights); granted to no service. The check reads the month's incident ids (the
-- (incident_id, status) index), so it costs a scan of that index, measured by
-- bench/timeline_retention.py --alerts.
CREATE FUNCTION alerts_expired(p_cutoff timestamptz) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    part record;
    held boolean;
BEGIN
    FOR part IN
        SELECT name FROM (
            SELECT c.relname AS name,
                   (to_date(substr(c.relname, 9), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC' AS ends
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'alerts'::regclass AND c.relname ~ '^alerts_p[0-9]{6}$'
        ) AS monthly
         WHERE ends <= p_cutoff
         ORDER BY name
    LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(part.name) || ' a'
            || ' WHERE a.incident_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM incidents i'
            || ' WHERE i.id = a.incident_id AND i.resolved_at <= $1))'
            || ' OR EXISTS (SELECT 1 FROM alert_open_openers o'
            || ' WHERE EXISTS (SELECT 1 FROM ' || quote_ident(part.name) || ' a WHERE a.id = o.alert_id))'
            INTO held USING p_cutoff;
        IF NOT held THEN
            RETURN NEXT part.name;
        END IF;
    END LOOP;
END
$$;

-- Step 1 of retiring a month: empties the oldest expired partition that still holds alerts
-- and returns its name, or NULL when none does. TRUNCATE locks that partition only, which no
-- new alert routes to; a reader of alerts across months (the dedup lookup) waits for it while
-- its files are freed.
CREATE FUNCTION alerts_empty_partition(p_cutoff timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    name text;
    filled boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('alerts_partitions'));
    FOR name IN SELECT alerts_expired(p_cutoff) LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(name) || ')' INTO filled;
        IF filled THEN
            EXECUTE 'TRUNCATE ' || quote_ident(name);
            RETURN name;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- Step 2: drops the oldest expired partition that is empty and returns its name, or NULL
-- when there is none. One per call (per transaction), so the lock on alerts is held for one
-- drop at a time, of a table with no data to free.
CREATE FUNCTION alerts_drop_partition(p_cutoff timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    name text;
    filled boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('alerts_partitions'));
    FOR name IN SELECT alerts_expired(p_cutoff) LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(name) || ')' INTO filled;
        CONTINUE WHEN filled;
        EXECUTE 'DROP TABLE ' || quote_ident(name);
        RETURN name;
    END LOOP;
    RETURN NULL;
END
$$;

-- The timeline's monthly partitions: created ahead and dropped after the
-- retention. Installed by migration 0018_retention; called by
-- incident-management's retention worker (workers/retention.py); tests in
-- database/tests/test_timeline_retention.py and the service's
-- tests/integration/test_retention.py.
--
-- Both run with the rights of the migration role, which owns
-- incident_timeline: partition DDL needs the table's owner, and making
-- incident_management the owner would give it UPDATE, DELETE and the right to
-- switch the append-only trigger off.
--
-- Locks, as measured on PostgreSQL 15 (pg_locks inside the transaction):
-- - DROP TABLE of a partition takes ACCESS EXCLUSIVE on incident_timeline
--   only, but holds it until its files are freed at commit (0.4 s for a
--   million entries, 5.5 s for ten on this machine): a month is therefore
--   emptied first (TRUNCATE, which locks the partition only), then dropped. DETACH PARTITION (plain or CONCURRENTLY) turns the partition's share
--   of the foreign key into one of its own, adding triggers to `incidents`,
--   and the DROP after it removes them: SHARE ROW EXCLUSIVE then ACCESS
--   EXCLUSIVE on `incidents`, which would stop every reader of incidents. So
--   the partition is dropped without a detach. (CONCURRENTLY could not run
--   here anyway: no transaction block, so no function, may run it.) The check
--   for held incidents runs before the drop, so the lock on the parent lasts
--   for the catalog change only; lock_timeout bounds how long it may queue in
--   front of inserts, and a call that times out drops nothing (the next cycle
--   tries again).
-- - CREATE TABLE ... PARTITION OF takes SHARE ROW EXCLUSIVE on `incidents`
--   (the foreign key's triggers) after ACCESS EXCLUSIVE on incident_timeline,
--   the reverse of open_incident(), which writes incidents then the timeline:
--   the two deadlocked (found by test_retention.py). `incidents`, then the
--   timeline, are therefore locked first, and only when a month is missing
--   (once a month), for the few milliseconds the creation takes.
--
-- Partitions are named incident_timeline_pYYYYMM and hold [month, month + 1).
-- One advisory lock serializes both functions across replicas.

CREATE FUNCTION incident_timeline_add_partitions(p_from timestamptz, p_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    month date;
    missing date[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('incident_timeline_partitions'));
    FOR i IN 0 .. p_months LOOP
        month := (date_trunc('month', p_from AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        IF to_regclass('incident_timeline_p' || to_char(month, 'YYYYMM')) IS NULL THEN
            missing := missing || month;
        END IF;
    END LOOP;
    IF cardinality(missing) = 0 THEN
        RETURN 0;
    END IF;
    -- In the writers' order (open_incident(): incidents, then the timeline, then a partition).
    LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE;
    LOCK TABLE incident_timeline IN ACCESS EXCLUSIVE MODE;
    -- Entries that went to the DEFAULT partition for want of their month's (the worker was
    -- away, or a clock ran ahead) would forbid creating it: they are taken out (TRUNCATE: the
    -- append-only trigger guards rows, not the table) and put back through the parent, which
    -- routes them to their new partitions. The default partition is empty while the worker runs.
    CREATE TEMP TABLE incident_timeline_moving ON COMMIT DROP AS SELECT * FROM incident_timeline_default;
    TRUNCATE incident_timeline_default;
    FOREACH month IN ARRAY missing LOOP
        -- quote_ident/quote_literal, not format(): the migration hands this text to the driver,
        -- which reads a percent sign as a placeholder.
        EXECUTE 'CREATE TABLE ' || quote_ident('incident_timeline_p' || to_char(month, 'YYYYMM'))
            || ' PARTITION OF incident_timeline FOR VALUES FROM ('
            || quote_literal(month::timestamp AT TIME ZONE 'UTC') || ') TO ('
            || quote_literal((month + interval '1 month')::timestamp AT TIME ZONE 'UTC') || ')';
    END LOOP;
    INSERT INTO incident_timeline SELECT * FROM incident_timeline_moving;
    RETURN cardinality(missing);
END
$$;

-- The partitions that ended at or before p_cutoff and hold no entry of an incident
-- that is not resolved, or was resolved after p_cutoff (its history is kept whole
-- while it is within the retention), oldest first. Called by the two functions below
-- (with their owner's rights); granted to no service.
CREATE FUNCTION incident_timeline_expired(p_cutoff timestamptz) RETURNS SETOF text
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    part record;
    held boolean;
BEGIN
    FOR part IN
        SELECT name, ends FROM (
            SELECT c.relname AS name,
                   (to_date(substr(c.relname, 20), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC' AS ends
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'incident_timeline'::regclass AND c.relname ~ '^incident_timeline_p[0-9]{6}$'
        ) AS monthly
         WHERE ends <= p_cutoff
         ORDER BY name
    LOOP
        -- Resolved is final (incident-management's domain/state.py): once every incident of the
        -- partition was resolved before the cutoff, no later change makes it held again. Asked
        -- from the incidents' side, so the check does not grow with the partition: an entry comes
        -- after its incident was opened, so only incidents opened before the partition's end and
        -- not resolved before the cutoff can hold it (few), each looked up in the partition's
        -- (incident_id, id) index.
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM incidents i WHERE i.created_at < $2'
            || ' AND (i.resolved_at IS NULL OR i.resolved_at > $1)'
            || ' AND EXISTS (SELECT 1 FROM ' || quote_ident(part.name) || ' t WHERE t.incident_id = i.id))'
            INTO held USING p_cutoff, part.ends;
        IF NOT held THEN
            RETURN NEXT part.name;
        END IF;
    END LOOP;
END
$$;

-- Step 1 of retiring a month: empties the oldest expired partition that still holds
-- entries (TRUNCATE: the append-only trigger guards rows, not the table) and returns its
-- name, or NULL when none does. The files are freed when this commits, which takes time
-- with the partition's size (about 0.4 s per million entries measured here): TRUNCATE
-- locks that partition only, which no insert routes to, so writers of the timeline do not
-- wait (a reader of the whole timeline waits for that partition).
CREATE FUNCTION incident_timeline_empty_partition(p_cutoff timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    name text;
    filled boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('incident_timeline_partitions'));
    FOR name IN SELECT incident_timeline_expired(p_cutoff) LOOP
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
-- when there is none. One per call (per transaction), so the lock on the parent is held
-- for one drop at a time, of a table with no data to free.
CREATE FUNCTION incident_timeline_drop_partition(p_cutoff timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    name text;
    filled boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('incident_timeline_partitions'));
    FOR name IN SELECT incident_timeline_expired(p_cutoff) LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM ' || quote_ident(name) || ')' INTO filled;
        CONTINUE WHEN filled;
        EXECUTE 'DROP TABLE ' || quote_ident(name);
        RETURN name;
    END LOOP;
    RETURN NULL;
END
$$;

-- The timeline's monthly partitions: created ahead and dropped after the
-- retention. Installed by migration 0018_retention; called by
-- incident-management's retention worker (workers/retention.py); tests in
-- database/tests/test_timeline_retention.py.
--
-- Both run with the rights of the migration role, which owns
-- incident_timeline: partition DDL needs the table's owner, and making
-- incident_management the owner would give it UPDATE, DELETE and the right to
-- switch the append-only trigger off. A function runs in its caller's
-- transaction, so the drop is a plain DETACH (not CONCURRENTLY, which no
-- transaction block may run): its ACCESS EXCLUSIVE lock on incident_timeline
-- is held for the detach and the drop only (no scan: the check for open
-- incidents runs before it), and lock_timeout bounds how long it may queue in
-- front of inserts; a call that times out drops nothing and the next cycle
-- tries again.
--
-- Partitions are named incident_timeline_pYYYYMM and hold [month, month + 1).
-- One advisory lock serializes both functions across replicas.

CREATE FUNCTION incident_timeline_add_partitions(p_from timestamptz, p_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    month date;
    name text;
    created integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('incident_timeline_partitions'));
    FOR i IN 0 .. p_months LOOP
        month := (date_trunc('month', p_from AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        name := 'incident_timeline_p' || to_char(month, 'YYYYMM');
        CONTINUE WHEN to_regclass(name) IS NOT NULL;
        -- quote_ident/quote_literal, not format(): the migration hands this text to the driver,
        -- which reads a percent sign as a placeholder.
        EXECUTE 'CREATE TABLE ' || quote_ident(name) || ' PARTITION OF incident_timeline FOR VALUES FROM ('
            || quote_literal(month::timestamp AT TIME ZONE 'UTC') || ') TO ('
            || quote_literal((month + interval '1 month')::timestamp AT TIME ZONE 'UTC') || ')';
        created := created + 1;
    END LOOP;
    RETURN created;
END
$$;

-- Drops the oldest partition that ends at or before p_cutoff and holds no entry
-- of an incident that is not resolved, or was resolved after p_cutoff (its
-- history is kept whole while it is within the retention). Returns its name,
-- or NULL when there is none. One partition per call (per transaction), so the
-- lock on the parent is held for one detach and drop at a time.
CREATE FUNCTION incident_timeline_drop_partition(p_cutoff timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    part record;
    held boolean;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('incident_timeline_partitions'));
    FOR part IN
        SELECT c.relname AS name
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'incident_timeline'::regclass
           AND c.relname ~ '^incident_timeline_p[0-9]{6}$'
           AND (to_date(substr(c.relname, 20), 'YYYYMM') + interval '1 month')::timestamp AT TIME ZONE 'UTC'
               <= p_cutoff
         ORDER BY c.relname
    LOOP
        -- Resolved is final (incident-management's domain/state.py): once every incident of the
        -- partition was resolved before the cutoff, no later change makes it held again.
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM incidents WHERE id IN (SELECT incident_id FROM '
            || quote_ident(part.name) || ') AND (resolved_at IS NULL OR resolved_at > $1))'
            INTO held USING p_cutoff;
        CONTINUE WHEN held;
        EXECUTE 'ALTER TABLE incident_timeline DETACH PARTITION ' || quote_ident(part.name);
        EXECUTE 'DROP TABLE ' || quote_ident(part.name);
        RETURN part.name;
    END LOOP;
    RETURN NULL;
END
$$;

-- Alerts in monthly partitions, and the guarantee the partitioned table cannot
-- keep in an index of its own. Installed by migration 0019_alert_partitions;
-- tests in database/tests/test_alert_partitions.py and test_ingest_rule.py.
--
-- One open opener per (dedup_scope, fingerprint): before 0019 the unique
-- partial index ux_alerts_open_opener refused a second open incident opened by
-- one fingerprint. A partitioned table's unique indexes must hold the
-- partition key (received_at), which would make every opener unique, so the
-- open openers are kept in alert_open_openers, whose primary key refuses the
-- second one, wherever it comes from (ingest_alerts(), a regroup, a hand-made
-- INSERT). The triggers keep it: a row while an alert has action 'created' and
-- is not resolved. SECURITY DEFINER, owned by the migration role: the service
-- may read the table, not forge or remove its rows.

CREATE FUNCTION alert_open_openers_keep() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.action = 'created' AND OLD.status <> 'resolved' THEN
        DELETE FROM alert_open_openers WHERE alert_id = OLD.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.action = 'created' AND NEW.status <> 'resolved' THEN
        INSERT INTO alert_open_openers (dedup_scope, fingerprint, alert_id) VALUES (NEW.dedup_scope, NEW.fingerprint, NEW.id);
    END IF;
    RETURN NULL;
END
$$;

-- The months alerts are stored in, created ahead. Partitions are named alerts_pYYYYMM and
-- hold [month, month + 1); alerts_default takes an alert no month holds, so an insert never
-- fails. As incident_timeline_add_partitions (0018_retention/timeline_partitions.sql): the
-- migration role owns alerts, one advisory lock serializes callers, and the tables the new
-- partition's foreign key touches (integrations) are locked before alerts, in the writers' order.
CREATE FUNCTION alerts_add_partitions(p_from timestamptz, p_months integer) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp SET lock_timeout = '2s' AS $$
DECLARE
    month date;
    missing date[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('alerts_partitions'));
    FOR i IN 0 .. p_months LOOP
        month := (date_trunc('month', p_from AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        IF to_regclass('alerts_p' || to_char(month, 'YYYYMM')) IS NULL THEN
            missing := missing || month;
        END IF;
    END LOOP;
    IF cardinality(missing) = 0 THEN
        RETURN 0;
    END IF;
    LOCK TABLE integrations IN SHARE ROW EXCLUSIVE MODE;
    LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE;
    -- Alerts that went to the DEFAULT partition for want of their month's would forbid creating
    -- it: they are taken out and put back through the parent, which routes them to their new
    -- partitions. TRUNCATE fires no trigger, so their open openers are removed first and made
    -- again by the insert.
    CREATE TEMP TABLE alerts_moving ON COMMIT DROP AS SELECT * FROM alerts_default;
    DELETE FROM alert_open_openers WHERE alert_id IN (SELECT id FROM alerts_moving);
    TRUNCATE alerts_default;
    FOREACH month IN ARRAY missing LOOP
        -- quote_ident/quote_literal, not format(): the migration hands this text to the driver,
        -- which reads a percent sign as a placeholder.
        EXECUTE 'CREATE TABLE ' || quote_ident('alerts_p' || to_char(month, 'YYYYMM'))
            || ' PARTITION OF alerts FOR VALUES FROM ('
            || quote_literal(month::timestamp AT TIME ZONE 'UTC') || ') TO ('
            || quote_literal((month + interval '1 month')::timestamp AT TIME ZONE 'UTC') || ')';
    END LOOP;
    INSERT INTO alerts SELECT * FROM alerts_moving;
    RETURN cardinality(missing);
END
$$;

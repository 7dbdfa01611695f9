-- Running totals per process, node, owner and currency, kept by a trigger on `deals`, so that
-- a pipeline board's column counts and sums read a few hundred rows instead of every deal.
-- `currency` is '' for deals without an amount; `weighted` is SUM(amount_minor * probability).

CREATE TABLE deal_stage_counters (
    process_id   BIGINT NOT NULL,
    current_node TEXT NOT NULL,
    owner_id     BIGINT NOT NULL,
    currency     TEXT NOT NULL,
    deals        BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    weighted     BIGINT NOT NULL,
    PRIMARY KEY (process_id, current_node, owner_id, currency)
);

INSERT INTO deal_stage_counters (process_id, current_node, owner_id, currency, deals, amount_minor, weighted)
SELECT process_id, current_node, owner_id, COALESCE(currency, ''), COUNT(*),
       COALESCE(SUM(amount_minor), 0)::BIGINT, COALESCE(SUM(amount_minor * probability), 0)::BIGINT
FROM deals
GROUP BY process_id, current_node, owner_id, COALESCE(currency, '');

CREATE FUNCTION deal_stage_counters_add(
    p BIGINT, node TEXT, owner BIGINT, cur TEXT, n BIGINT, amount BIGINT, weighted_amount BIGINT
) RETURNS void AS $$
BEGIN
    INSERT INTO deal_stage_counters AS c (process_id, current_node, owner_id, currency, deals, amount_minor, weighted)
    VALUES (p, node, owner, COALESCE(cur, ''), n, amount, weighted_amount)
    ON CONFLICT (process_id, current_node, owner_id, currency) DO UPDATE SET
        deals = c.deals + EXCLUDED.deals,
        amount_minor = c.amount_minor + EXCLUDED.amount_minor,
        weighted = c.weighted + EXCLUDED.weighted;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION deals_count() RETURNS trigger AS $$
DECLARE
    old_first BOOLEAN;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM deal_stage_counters_add(NEW.process_id, NEW.current_node, NEW.owner_id, NEW.currency, 1,
            COALESCE(NEW.amount_minor, 0), COALESCE(NEW.amount_minor * NEW.probability, 0));
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM deal_stage_counters_add(OLD.process_id, OLD.current_node, OLD.owner_id, OLD.currency, -1,
            -COALESCE(OLD.amount_minor, 0), -COALESCE(OLD.amount_minor * OLD.probability, 0));
        RETURN OLD;
    END IF;
    IF (OLD.process_id, OLD.current_node, OLD.owner_id, OLD.currency, OLD.amount_minor, OLD.probability)
       IS NOT DISTINCT FROM
       (NEW.process_id, NEW.current_node, NEW.owner_id, NEW.currency, NEW.amount_minor, NEW.probability) THEN
        RETURN NEW;
    END IF;
    -- Touch the two counter rows in key order, so that concurrent moves cannot deadlock.
    old_first := (OLD.process_id, OLD.current_node, OLD.owner_id, COALESCE(OLD.currency, ''))
               <= (NEW.process_id, NEW.current_node, NEW.owner_id, COALESCE(NEW.currency, ''));
    IF old_first THEN
        PERFORM deal_stage_counters_add(OLD.process_id, OLD.current_node, OLD.owner_id, OLD.currency, -1,
            -COALESCE(OLD.amount_minor, 0), -COALESCE(OLD.amount_minor * OLD.probability, 0));
    END IF;
    PERFORM deal_stage_counters_add(NEW.process_id, NEW.current_node, NEW.owner_id, NEW.currency, 1,
        COALESCE(NEW.amount_minor, 0), COALESCE(NEW.amount_minor * NEW.probability, 0));
    IF NOT old_first THEN
        PERFORM deal_stage_counters_add(OLD.process_id, OLD.current_node, OLD.owner_id, OLD.currency, -1,
            -COALESCE(OLD.amount_minor, 0), -COALESCE(OLD.amount_minor * OLD.probability, 0));
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER deals_count
AFTER INSERT OR UPDATE OR DELETE ON deals
FOR EACH ROW EXECUTE FUNCTION deals_count();

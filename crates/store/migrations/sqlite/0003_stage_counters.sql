-- Running totals per process, node, owner and currency, kept by triggers on `deals`, so that
-- a pipeline board's column counts and sums read a few hundred rows instead of every deal.
-- `currency` is '' for deals without an amount; `weighted` is SUM(amount_minor * probability).

CREATE TABLE deal_stage_counters (
    process_id   INTEGER NOT NULL,
    current_node TEXT NOT NULL,
    owner_id     INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    deals        INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    weighted     INTEGER NOT NULL,
    PRIMARY KEY (process_id, current_node, owner_id, currency)
);

INSERT INTO deal_stage_counters (process_id, current_node, owner_id, currency, deals, amount_minor, weighted)
SELECT process_id, current_node, owner_id, COALESCE(currency, ''), COUNT(*),
       COALESCE(SUM(amount_minor), 0), COALESCE(SUM(amount_minor * probability), 0)
FROM deals
GROUP BY process_id, current_node, owner_id, COALESCE(currency, '');

CREATE TRIGGER deals_count_insert
AFTER INSERT ON deals
BEGIN
    INSERT INTO deal_stage_counters (process_id, current_node, owner_id, currency, deals, amount_minor, weighted)
    VALUES (NEW.process_id, NEW.current_node, NEW.owner_id, COALESCE(NEW.currency, ''), 1,
            COALESCE(NEW.amount_minor, 0), COALESCE(NEW.amount_minor * NEW.probability, 0))
    ON CONFLICT (process_id, current_node, owner_id, currency) DO UPDATE SET
        deals = deals + 1,
        amount_minor = amount_minor + excluded.amount_minor,
        weighted = weighted + excluded.weighted;
END;

CREATE TRIGGER deals_count_update
AFTER UPDATE OF process_id, current_node, owner_id, currency, amount_minor, probability ON deals
BEGIN
    UPDATE deal_stage_counters SET
        deals = deals - 1,
        amount_minor = amount_minor - COALESCE(OLD.amount_minor, 0),
        weighted = weighted - COALESCE(OLD.amount_minor * OLD.probability, 0)
    WHERE process_id = OLD.process_id AND current_node = OLD.current_node AND owner_id = OLD.owner_id
      AND currency = COALESCE(OLD.currency, '');
    INSERT INTO deal_stage_counters (process_id, current_node, owner_id, currency, deals, amount_minor, weighted)
    VALUES (NEW.process_id, NEW.current_node, NEW.owner_id, COALESCE(NEW.currency, ''), 1,
            COALESCE(NEW.amount_minor, 0), COALESCE(NEW.amount_minor * NEW.probability, 0))
    ON CONFLICT (process_id, current_node, owner_id, currency) DO UPDATE SET
        deals = deals + 1,
        amount_minor = amount_minor + excluded.amount_minor,
        weighted = weighted + excluded.weighted;
END;

CREATE TRIGGER deals_count_delete
AFTER DELETE ON deals
BEGIN
    UPDATE deal_stage_counters SET
        deals = deals - 1,
        amount_minor = amount_minor - COALESCE(OLD.amount_minor, 0),
        weighted = weighted - COALESCE(OLD.amount_minor * OLD.probability, 0)
    WHERE process_id = OLD.process_id AND current_node = OLD.current_node AND owner_id = OLD.owner_id
      AND currency = COALESCE(OLD.currency, '');
END;

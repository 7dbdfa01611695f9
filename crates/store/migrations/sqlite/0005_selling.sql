-- Selling: the needs analysis per deal, the product catalog, quote versions, contracts,
-- objections and the per-stage playbook.
-- Records are JSON documents (`body`, `content`, `state`) beside the columns that are
-- searched, joined or guarded; times inside them come from the application's clock.

CREATE TABLE deal_needs (
    deal_id  INTEGER PRIMARY KEY REFERENCES deals (id),
    body     TEXT NOT NULL,
    version  INTEGER NOT NULL
);

CREATE TABLE products (
    id       INTEGER PRIMARY KEY,
    sku      TEXT NOT NULL UNIQUE,
    active   INTEGER NOT NULL,
    body     TEXT NOT NULL
);

CREATE TABLE quotes (
    id          INTEGER PRIMARY KEY,
    deal_id     INTEGER NOT NULL REFERENCES deals (id),
    number      INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'superseded', 'expired')),
    -- What the customer is offered: frozen once the version leaves draft.
    content     TEXT NOT NULL,
    -- Approval, sending, the customer's decision.
    state       TEXT NOT NULL,
    -- SHA-256 of the customer's link token; the token itself is never stored.
    token_hash  TEXT UNIQUE,
    version     INTEGER NOT NULL,
    UNIQUE (deal_id, number)
);

CREATE TRIGGER quotes_sent_content_immutable
BEFORE UPDATE ON quotes
WHEN OLD.status <> 'draft'
    AND (NEW.content IS NOT OLD.content OR NEW.number IS NOT OLD.number OR NEW.deal_id IS NOT OLD.deal_id
         OR NEW.token_hash IS NOT OLD.token_hash)
BEGIN
    SELECT RAISE(ABORT, 'a sent quote version is immutable');
END;

CREATE TRIGGER quotes_decided_final
BEFORE UPDATE ON quotes
WHEN OLD.status IN ('accepted', 'rejected', 'superseded', 'expired') AND NEW.status IS NOT OLD.status
BEGIN
    SELECT RAISE(ABORT, 'a decided quote version keeps its status');
END;

CREATE TRIGGER quotes_sent_kept
BEFORE DELETE ON quotes
WHEN OLD.status <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'a sent quote version is immutable');
END;

CREATE TABLE contracts (
    id        INTEGER PRIMARY KEY,
    deal_id   INTEGER NOT NULL REFERENCES deals (id),
    quote_id  INTEGER NOT NULL UNIQUE REFERENCES quotes (id),
    number    TEXT NOT NULL UNIQUE,
    status    TEXT NOT NULL,
    body      TEXT NOT NULL,
    version   INTEGER NOT NULL
);

CREATE INDEX contracts_deal ON contracts (deal_id);

CREATE TABLE objections (
    id       INTEGER PRIMARY KEY,
    deal_id  INTEGER NOT NULL REFERENCES deals (id),
    body     TEXT NOT NULL,
    version  INTEGER NOT NULL
);

CREATE INDEX objections_deal ON objections (deal_id);

CREATE TABLE playbooks (
    process_id  INTEGER NOT NULL REFERENCES processes (id),
    stage       TEXT NOT NULL,
    body        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    PRIMARY KEY (process_id, stage)
);

-- The foundation: users, processes (versioned flowcharts), accounts, contacts, leads, deals,
-- and the append-only deal event log.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE,
    locale      TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'rep', 'viewer')),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
);

CREATE TABLE processes (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    locale      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE process_versions (
    process_id    INTEGER NOT NULL REFERENCES processes (id),
    version       INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    definition    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    published_at  TEXT,
    PRIMARY KEY (process_id, version)
);

CREATE TRIGGER process_versions_published_immutable
BEFORE UPDATE ON process_versions
WHEN OLD.status = 'published'
BEGIN
    SELECT RAISE(ABORT, 'a published process version is immutable');
END;

CREATE TRIGGER process_versions_published_kept
BEFORE DELETE ON process_versions
WHEN OLD.status = 'published'
BEGIN
    SELECT RAISE(ABORT, 'a published process version is immutable');
END;

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT,
    search_text TEXT NOT NULL,
    industry    TEXT NOT NULL,
    region      TEXT NOT NULL,
    website     TEXT NOT NULL,
    owner_id    INTEGER NOT NULL REFERENCES users (id),
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX accounts_name_key ON accounts (name_key);
CREATE INDEX accounts_owner ON accounts (owner_id, id);

CREATE TABLE contacts (
    id                 INTEGER PRIMARY KEY,
    account_id         INTEGER REFERENCES accounts (id),
    name               TEXT NOT NULL,
    title              TEXT NOT NULL,
    email              TEXT,
    email_key          TEXT,
    phone              TEXT,
    phone_key          TEXT,
    search_text TEXT NOT NULL,
    wechat_id          TEXT,
    preferred_channel  TEXT,
    consent_email      BOOLEAN NOT NULL,
    consent_sms        BOOLEAN NOT NULL,
    consent_phone      BOOLEAN NOT NULL,
    consent_wechat     BOOLEAN NOT NULL,
    owner_id           INTEGER NOT NULL REFERENCES users (id),
    version            INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX contacts_email_key ON contacts (email_key);
CREATE INDEX contacts_phone_key ON contacts (phone_key);
CREATE INDEX contacts_account ON contacts (account_id, id);
CREATE INDEX contacts_owner ON contacts (owner_id, id);

CREATE TABLE leads (
    id                 INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    company            TEXT NOT NULL,
    company_key        TEXT,
    email              TEXT,
    email_key          TEXT,
    phone              TEXT,
    phone_key          TEXT,
    search_text TEXT NOT NULL,
    channel            TEXT NOT NULL,
    status             TEXT NOT NULL,
    disqualify_reason  TEXT,
    owner_id           INTEGER NOT NULL REFERENCES users (id),
    notes              TEXT NOT NULL,
    converted_deal_id  INTEGER,
    version            INTEGER NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX leads_email_key ON leads (email_key);
CREATE INDEX leads_phone_key ON leads (phone_key);
CREATE INDEX leads_company_key ON leads (company_key);
CREATE INDEX leads_owner ON leads (owner_id, id);
CREATE INDEX leads_status ON leads (status, id);

CREATE TABLE deals (
    id                      INTEGER PRIMARY KEY,
    title                   TEXT NOT NULL,
    search_text TEXT NOT NULL,
    account_id              INTEGER NOT NULL REFERENCES accounts (id),
    owner_id                INTEGER NOT NULL REFERENCES users (id),
    process_id              INTEGER NOT NULL,
    process_version         INTEGER NOT NULL,
    current_node            TEXT NOT NULL,
    amount_minor            INTEGER,
    currency                TEXT,
    expected_close_date     TEXT,
    probability             INTEGER NOT NULL,
    probability_overridden  BOOLEAN NOT NULL,
    status                  TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    lost_reason             TEXT,
    needs_summary           TEXT NOT NULL,
    channel                 TEXT,
    lead_id                 INTEGER REFERENCES leads (id),
    version                 INTEGER NOT NULL,
    last_event_seq          INTEGER NOT NULL,
    last_event_at           TEXT NOT NULL,
    stage_entered_at        TEXT NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    closed_at               TEXT,
    FOREIGN KEY (process_id, process_version) REFERENCES process_versions (process_id, version)
);
CREATE INDEX deals_owner ON deals (owner_id, id);
CREATE INDEX deals_owner_status ON deals (owner_id, status, id);
CREATE INDEX deals_channel ON deals (channel, id);
CREATE INDEX deals_channel_status ON deals (channel, status, id);
CREATE INDEX deals_stage ON deals (process_id, current_node, status, id);
CREATE INDEX deals_status ON deals (status, id);
CREATE INDEX deals_account ON deals (account_id, id);

CREATE TABLE deal_contacts (
    deal_id     INTEGER NOT NULL REFERENCES deals (id),
    contact_id  INTEGER NOT NULL REFERENCES contacts (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (deal_id, contact_id)
);
CREATE INDEX deal_contacts_contact ON deal_contacts (contact_id);

CREATE TABLE deal_steps (
    deal_id  INTEGER NOT NULL REFERENCES deals (id),
    node_id  TEXT NOT NULL,
    step_id  TEXT NOT NULL,
    done_at  TEXT NOT NULL,
    PRIMARY KEY (deal_id, node_id, step_id)
);

CREATE TABLE deal_events (
    id                   INTEGER PRIMARY KEY,
    deal_id              INTEGER NOT NULL REFERENCES deals (id),
    seq                  INTEGER NOT NULL,
    kind                 TEXT NOT NULL,
    process_id           INTEGER NOT NULL,
    process_version      INTEGER NOT NULL,
    from_node            TEXT NOT NULL,
    to_node              TEXT NOT NULL,
    edge_id              TEXT,
    actor_id             INTEGER NOT NULL REFERENCES users (id),
    occurred_at          TEXT NOT NULL,
    recorded_at          TEXT NOT NULL,
    amount_minor         INTEGER,
    currency             TEXT,
    probability          INTEGER NOT NULL,
    expected_close_date  TEXT,
    details              TEXT NOT NULL,
    UNIQUE (deal_id, seq)
);

CREATE TRIGGER deal_events_no_update
BEFORE UPDATE ON deal_events
BEGIN
    SELECT RAISE(ABORT, 'deal_events is append-only');
END;

CREATE TRIGGER deal_events_no_delete
BEFORE DELETE ON deal_events
BEGIN
    SELECT RAISE(ABORT, 'deal_events is append-only');
END;

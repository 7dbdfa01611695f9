-- Retired process versions: published once, closed to new deals. `retired_at` marks a retired
-- one (the same shape as SQLite, whose status CHECK cannot change in place). A published
-- version still rejects every change except that one: setting `retired_at` once.

ALTER TABLE process_versions ADD COLUMN retired_at TIMESTAMPTZ;

CREATE OR REPLACE FUNCTION process_versions_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'published' THEN
        IF TG_OP = 'UPDATE' AND OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
           AND NEW.process_id = OLD.process_id AND NEW.version = OLD.version AND NEW.status = OLD.status
           AND NEW.definition = OLD.definition AND NEW.created_at = OLD.created_at
           AND NEW.published_at IS NOT DISTINCT FROM OLD.published_at THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'a published process version is immutable';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

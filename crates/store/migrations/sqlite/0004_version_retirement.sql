-- Retired process versions: published once, closed to new deals. The status column keeps
-- 'draft' / 'published' (its CHECK cannot change in SQLite without rebuilding the table the
-- deals point at); `retired_at` marks a retired one. A published version still rejects every
-- change except that one: setting `retired_at` once.

ALTER TABLE process_versions ADD COLUMN retired_at TEXT;

DROP TRIGGER process_versions_published_immutable;

CREATE TRIGGER process_versions_published_immutable
BEFORE UPDATE ON process_versions
WHEN OLD.status = 'published' AND NOT (
    OLD.retired_at IS NULL AND NEW.retired_at IS NOT NULL
    AND NEW.process_id = OLD.process_id AND NEW.version = OLD.version AND NEW.status = OLD.status
    AND NEW.definition = OLD.definition AND NEW.created_at = OLD.created_at
    AND NEW.published_at IS OLD.published_at
)
BEGIN
    SELECT RAISE(ABORT, 'a published process version is immutable');
END;

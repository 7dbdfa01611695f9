-- Customer groups: an account belongs to at most one ("经销商", "education"; empty for none).
-- The deal page preselects the price book of the deal's account's group.

ALTER TABLE accounts ADD COLUMN customer_group TEXT NOT NULL DEFAULT '';

-- Price books: the prices of one currency or customer group, by SKU, kept by managers. The
-- book is a JSON document (`body`) named uniquely; quote lines made from a product take the
-- price of the book the rep picks.

CREATE TABLE price_books (
    name     TEXT PRIMARY KEY,
    body     TEXT NOT NULL,
    version  BIGINT NOT NULL
);

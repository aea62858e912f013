CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE UNLOGGED TABLE cache_entries (k text, v text);
CREATE TABLE accounts (id int); ALTER TABLE accounts ENABLE ROW LEVEL SECURITY; ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE TABLE child_of_base () INHERITS (parent_base);
CREATE TABLE by_list (id int, region text) PARTITION BY LIST (region);

CREATE SCHEMA reporting; CREATE TABLE reporting.daily (id int PRIMARY KEY, total numeric); CREATE INDEX daily_total_idx ON reporting.daily (total);

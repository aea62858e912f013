CREATE TABLE t (id int, email text, name text, created timestamptz, active boolean, payload jsonb);

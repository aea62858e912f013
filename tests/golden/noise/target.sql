CREATE TABLE wallets (owner text, balance numeric(18,2), id int PRIMARY KEY);
CREATE INDEX wallets_owner_idx ON wallets (owner);
CREATE VIEW rich AS SELECT id FROM wallets WHERE balance > 1000;
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
ALTER TABLE wallets OWNER TO dw_noise_b;
COMMENT ON TABLE wallets IS 'staging wallets';
CREATE TEMP TABLE scratch (x int);

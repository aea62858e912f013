CREATE FUNCTION vat(amount numeric) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT amount * 0.15 $$;
CREATE FUNCTION fee(amount numeric, pct numeric) RETURNS numeric LANGUAGE plpgsql AS $$
BEGIN
  RETURN amount * pct;
END;
$$;
CREATE FUNCTION whoami() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER AS $$ SELECT current_user::text $$;
CREATE FUNCTION total() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM ledger $$;
CREATE FUNCTION std_body(x int) RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT x + 1; END;
CREATE PROCEDURE archive(days int) LANGUAGE plpgsql AS $$ BEGIN DELETE FROM ledger WHERE id < days; END $$;
CREATE FUNCTION overload(a int) RETURNS int LANGUAGE sql AS $$ SELECT a $$;
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT x * 2 $$;
CREATE FUNCTION half(x numeric) RETURNS numeric LANGUAGE sql AS $$ SELECT x / 2 $$;
CREATE FUNCTION purge(days int) RETURNS void LANGUAGE sql AS $$ DELETE FROM ledger WHERE id < days $$;

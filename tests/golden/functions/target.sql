CREATE FUNCTION vat(amount numeric) RETURNS numeric LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT amount * 0.16 $$;
CREATE FUNCTION fee(amount numeric, pct numeric) RETURNS numeric LANGUAGE plpgsql AS $$
    BEGIN
        RETURN   amount * pct;
    END;
$$;
CREATE FUNCTION whoami() RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT current_user::text $$;
CREATE FUNCTION total() RETURNS integer LANGUAGE sql AS $$ SELECT count(*)::int FROM ledger $$;
CREATE FUNCTION std_body(x int) RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT x + 2; END;
CREATE PROCEDURE archive(days int) LANGUAGE plpgsql AS $$ BEGIN DELETE FROM ledger WHERE id < days; END $$;
CREATE FUNCTION overload(a text) RETURNS text LANGUAGE sql AS $$ SELECT a $$;
CREATE FUNCTION twice(x int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT x * 2 $$;
CREATE FUNCTION half(x numeric) RETURNS numeric LANGUAGE plpgsql AS $$ BEGIN RETURN x / 2; END $$;
CREATE PROCEDURE purge(days int) LANGUAGE sql AS $$ DELETE FROM ledger WHERE id < days $$;

DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dw_noise_a') THEN CREATE ROLE dw_noise_a; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dw_noise_b') THEN CREATE ROLE dw_noise_b; END IF;
END $$;
CREATE TABLE kept (id int PRIMARY KEY, v text);

CREATE TABLE docs (id int, owner text, tenant int); ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'dw_golden_app') THEN CREATE ROLE dw_golden_app; END IF; END $$;

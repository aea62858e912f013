CREATE POLICY docs_owner ON docs FOR UPDATE USING (owner = session_user);
CREATE POLICY docs_tenant ON docs AS RESTRICTIVE FOR ALL TO public USING (tenant = 2);
CREATE POLICY docs_insert ON docs FOR INSERT WITH CHECK (owner IS NOT NULL);

CREATE POLICY docs_owner ON docs FOR SELECT USING (owner = current_user);
CREATE POLICY docs_tenant ON docs AS PERMISSIVE FOR ALL TO dw_golden_app USING (tenant = 1) WITH CHECK (tenant = 1);
CREATE POLICY docs_insert ON docs FOR INSERT WITH CHECK (owner = current_user);
CREATE POLICY docs_gone ON docs FOR DELETE USING (false);

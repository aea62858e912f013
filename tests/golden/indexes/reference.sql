CREATE INDEX t_email_idx ON t (email text_pattern_ops);
CREATE INDEX t_lower_idx ON t (lower(name));
CREATE UNIQUE INDEX t_id_idx ON t (id) INCLUDE (email);
CREATE INDEX t_created_idx ON t (created DESC NULLS LAST) WHERE active;
CREATE INDEX t_hash_idx ON t USING hash (name);
CREATE INDEX t_payload_idx ON t USING gin (payload);
CREATE INDEX t_only_ref_idx ON t (name, email);
CREATE UNIQUE INDEX t_email_nnd_idx ON t (email) NULLS NOT DISTINCT;

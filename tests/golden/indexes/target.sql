CREATE INDEX t_email_idx ON t (email);
CREATE INDEX t_lower_idx ON t (upper(name));
CREATE INDEX t_id_idx ON t (id) INCLUDE (email, name);
CREATE INDEX t_created_idx ON t (created) WHERE NOT active;
CREATE INDEX t_hash_idx ON t USING btree (name);
CREATE INDEX t_payload_idx ON t USING gin (payload jsonb_path_ops);
CREATE INDEX t_only_tgt_idx ON t (email, name);
CREATE UNIQUE INDEX t_email_nnd_idx ON t (email);

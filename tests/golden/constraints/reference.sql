CREATE TABLE members (user_id int, org_id int, email text, starts int, ends int, during tsrange,
  CONSTRAINT members_pkey PRIMARY KEY (user_id, org_id),
  CONSTRAINT members_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE RESTRICT,
  CONSTRAINT members_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id) MATCH FULL DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT members_email_key UNIQUE NULLS NOT DISTINCT (email),
  CONSTRAINT members_range_check CHECK (starts < ends),
  CONSTRAINT members_no_overlap EXCLUDE USING gist (during WITH &&),
  CONSTRAINT members_only_ref CHECK (starts > 0));
ALTER TABLE members ADD CONSTRAINT members_email_len CHECK (length(email) < 200) NOT VALID;
ALTER TABLE members ADD CONSTRAINT members_ends_rule UNIQUE (ends);

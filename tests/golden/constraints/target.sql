CREATE TABLE members (user_id int, org_id int, email text, starts int, ends int, during tsrange,
  CONSTRAINT members_pkey PRIMARY KEY (user_id),
  CONSTRAINT members_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT members_org_fk FOREIGN KEY (org_id) REFERENCES orgs (alt),
  CONSTRAINT members_email_key UNIQUE (email),
  CONSTRAINT members_range_check CHECK (starts <= ends),
  CONSTRAINT members_no_overlap EXCLUDE USING gist (during WITH =),
  CONSTRAINT members_only_tgt CHECK (ends > 0));
ALTER TABLE members ADD CONSTRAINT members_email_len CHECK (length(email) < 200);
ALTER TABLE members ADD CONSTRAINT members_ends_rule CHECK (ends > 0);

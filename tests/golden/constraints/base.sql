CREATE TABLE users (id int PRIMARY KEY, email text, region text, during tsrange);
CREATE TABLE orgs (id int PRIMARY KEY, alt int UNIQUE);

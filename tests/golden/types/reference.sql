CREATE TYPE status AS ENUM ('pending', 'active', 'closed');
CREATE TYPE ordering AS ENUM ('low', 'mid', 'high');
CREATE DOMAIN msisdn AS varchar(16) NOT NULL DEFAULT '+27' CHECK (VALUE ~ '^\+[0-9]+$');
CREATE DOMAIN amount AS numeric(18,2) CHECK (VALUE >= 0);
CREATE TYPE money_pair AS (amount numeric(18,2), currency char(3));
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE TYPE gone AS ENUM ('x');

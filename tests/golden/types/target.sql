CREATE TYPE status AS ENUM ('pending', 'active', 'closed', 'archived');
CREATE TYPE ordering AS ENUM ('low', 'high'); ALTER TYPE ordering ADD VALUE 'mid' AFTER 'high';
CREATE DOMAIN msisdn AS varchar(20) DEFAULT '+1' CHECK (VALUE ~ '^\+[0-9]+$');
CREATE DOMAIN amount AS numeric(18,2) CHECK (VALUE > 0);
CREATE TYPE money_pair AS (amount numeric(20,4), currency char(3));
CREATE TYPE floatrange AS RANGE (subtype = float4);
CREATE TYPE added AS (x int);

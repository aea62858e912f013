CREATE TYPE same_mood AS ENUM ('a', 'b');

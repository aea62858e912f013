CREATE SCHEMA shared; CREATE TABLE shared.t (id int);

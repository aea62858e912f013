CREATE SCHEMA scratch; CREATE TABLE scratch.tmp (id int);

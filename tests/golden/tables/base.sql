CREATE TABLE parent_base (id int, at date);

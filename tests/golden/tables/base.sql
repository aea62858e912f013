CREATE TABLE parent_base (id int, at date);
CREATE FOREIGN DATA WRAPPER dw_golden_fdw; CREATE SERVER dw_golden_srv FOREIGN DATA WRAPPER dw_golden_fdw;
CREATE TABLE logs (id int, at date NOT NULL) PARTITION BY RANGE (at);

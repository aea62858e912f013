CREATE TABLE ledger (id int);

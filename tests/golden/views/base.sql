CREATE TABLE orders (id int, amount numeric, status text);

CREATE VIEW open_orders AS SELECT id, amount FROM orders WHERE status = 'open' OR status = 'new';
CREATE VIEW    totals   AS
    SELECT status,
           sum(amount) AS total
      FROM orders
     GROUP BY status;
CREATE MATERIALIZED VIEW order_stats AS SELECT count(*) AS n, sum(amount) AS total FROM orders;
CREATE INDEX order_stats_n_idx ON order_stats (n);

CREATE VIEW open_orders AS SELECT id, amount FROM orders WHERE status = 'open';
CREATE VIEW totals AS SELECT status, sum(amount) AS total FROM orders GROUP BY status;
CREATE MATERIALIZED VIEW order_stats AS SELECT count(*) AS n FROM orders;
CREATE INDEX order_stats_n_idx ON order_stats (n);
CREATE MATERIALIZED VIEW gone_stats AS SELECT 1 AS one;

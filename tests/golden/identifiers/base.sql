CREATE SCHEMA "Billing"; CREATE SCHEMA "données clients";

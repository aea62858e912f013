CREATE TABLE "Billing"."Invoice Lines" ("Line ID" int PRIMARY KEY, "Amount€" numeric(12,2), "CamelCase" text);
CREATE TABLE "données clients"."clés" ("naïve" varchar(5), "Ünïcode Col" int);

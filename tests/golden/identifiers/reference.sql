CREATE TABLE "Billing"."Invoice Lines" ("Line ID" int PRIMARY KEY, "Amount€" numeric(10,2), "camelCase" text);
CREATE TABLE "données clients"."clés" ("naïve" text, "Ünïcode Col" int);
CREATE INDEX "Invoice Lines By Amount" ON "Billing"."Invoice Lines" ("Amount€");

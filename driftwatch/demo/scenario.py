"""The runbook's Dec 2 day as data: one Sequelize migration list that builds uat, staging, production.

UAT has 85 migrations applied (45 tables, 523 columns), Staging 81 (it lacks the four Dec 2 E.164
migrations: an index and a CHECK constraint on beneficiaries, and backfills), Production 75 (it
also lacks a new table and a new column), and five migration files are applied nowhere yet.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    """One Sequelize migration: its file name (what SequelizeMeta records) and its SQL."""

    name: str
    up: str


CRITICAL_TABLES = ("users", "wallets", "transactions", "beneficiaries", "beneficiary_service_accounts")

DEC2 = (
    Migration("20251202_01_enforce_e164_beneficiaries.js",
              "CREATE INDEX beneficiaries_msisdn_idx ON beneficiaries (msisdn);\n"
              "ALTER TABLE beneficiaries ADD CONSTRAINT beneficiaries_msisdn_e164_check "
              "CHECK (msisdn IS NULL OR msisdn ~ '^\\+[1-9][0-9]{7,14}$') NOT VALID;"),
    Migration("20251202_02_backfill_beneficiaries_msisdn_to_e164.js",
              "UPDATE beneficiaries SET msisdn = '+27' || substr(msisdn, 2) WHERE msisdn LIKE '0%';"),
    Migration("20251202_03_backfill_service_accounts_msisdn_to_e164.js",
              "UPDATE beneficiary_service_accounts SET \"serviceData\" = "
              "jsonb_set(\"serviceData\", '{msisdn}', '\"+27820000001\"') "
              "WHERE \"serviceData\" ? 'msisdn';"),
    Migration("20251202_04_walletid_depii.js",
              "UPDATE wallets SET \"walletId\" = 'WAL-' || \"userId\";"),
)

_CORE = (
    Migration("20250106_01_create_users.js", """CREATE TABLE users (
  id serial PRIMARY KEY, "firstName" varchar(100) NOT NULL, "lastName" varchar(100) NOT NULL,
  email varchar(255) NOT NULL UNIQUE, "phoneNumber" varchar(20), "passwordHash" varchar(255),
  "idNumber" varchar(20), "idType" varchar(20), "kycStatus" varchar(20) DEFAULT 'pending',
  status varchar(20) NOT NULL DEFAULT 'active', "lastLoginAt" timestamptz,
  "failedLoginAttempts" integer NOT NULL DEFAULT 0, "twoFactorEnabled" boolean DEFAULT false,
  "createdAt" timestamptz NOT NULL DEFAULT now(), "updatedAt" timestamptz NOT NULL DEFAULT now(),
  "deletedAt" timestamptz);"""),
    Migration("20250106_02_create_wallets.js", """CREATE TABLE wallets (
  id serial PRIMARY KEY, "walletId" varchar(64) NOT NULL UNIQUE,
  "userId" integer NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
  balance numeric(18,2) NOT NULL DEFAULT 0, currency char(3) NOT NULL DEFAULT 'ZAR',
  status varchar(20) NOT NULL DEFAULT 'active', "kycVerified" boolean DEFAULT false,
  "createdAt" timestamptz NOT NULL DEFAULT now(), "updatedAt" timestamptz NOT NULL DEFAULT now(),
  "lastTransactionAt" timestamptz);"""),
    Migration("20250106_03_create_transactions.js", """CREATE TABLE transactions (
  id bigserial PRIMARY KEY, "transactionId" varchar(64) NOT NULL UNIQUE,
  "walletId" varchar(64) NOT NULL, "userId" integer REFERENCES users (id),
  amount numeric(18,2) NOT NULL, fee numeric(18,2) NOT NULL DEFAULT 0,
  currency char(3) NOT NULL DEFAULT 'ZAR', type varchar(30) NOT NULL,
  status varchar(20) NOT NULL DEFAULT 'pending', description text, reference varchar(100),
  metadata jsonb, "senderWalletId" varchar(64), "receiverWalletId" varchar(64),
  "createdAt" timestamptz NOT NULL DEFAULT now(), "updatedAt" timestamptz NOT NULL DEFAULT now());
CREATE INDEX transactions_wallet_idx ON transactions ("walletId");"""),
    Migration("20250107_01_create_beneficiaries.js", """CREATE TABLE beneficiaries (
  id serial PRIMARY KEY, "userId" integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name varchar(200) NOT NULL, msisdn varchar(20), "bankName" varchar(100),
  "accountNumber" varchar(30), "accountType" varchar(20), "vasServices" jsonb,
  "isFavorite" boolean NOT NULL DEFAULT false, "lastPaidAt" timestamptz,
  "createdAt" timestamptz NOT NULL DEFAULT now(), "updatedAt" timestamptz NOT NULL DEFAULT now());"""),
    Migration("20250107_02_create_beneficiary_service_accounts.js",
              """CREATE TABLE beneficiary_service_accounts (
  id serial PRIMARY KEY,
  "beneficiaryId" integer NOT NULL REFERENCES beneficiaries (id) ON DELETE CASCADE,
  "serviceType" varchar(30) NOT NULL, "serviceData" jsonb NOT NULL DEFAULT '{}'::jsonb,
  "isActive" boolean NOT NULL DEFAULT true, "isDefault" boolean NOT NULL DEFAULT false,
  "lastUsedAt" timestamptz, "createdAt" timestamptz NOT NULL DEFAULT now(),
  "updatedAt" timestamptz NOT NULL DEFAULT now());"""),
)

# Supporting tables of a payments app, created one migration each; (name, extra columns).
_SUPPORT = (
    "kyc_documents", "kyc_checks", "vouchers", "voucher_redemptions", "merchants",
    "merchant_float_accounts", "settlements", "settlement_items", "fees", "fee_schedules",
    "exchange_rates", "notifications", "notification_preferences", "audit_logs", "sessions",
    "devices", "otp_codes", "payment_requests", "payment_links", "cards", "card_tokens",
    "bank_accounts", "bank_transfers", "airtime_purchases", "data_purchases",
    "electricity_purchases", "bill_payments", "loyalty_points", "promotions", "promotion_claims",
    "support_tickets", "support_messages", "feature_flags", "app_settings", "webhooks",
    "webhook_deliveries", "reconciliation_runs", "limits",
)  # fmt: skip
_SUPPORT_COLUMN_COUNTS = (12, 13, 13, 11, 14, 12, 13, 12, 11, 13, 10, 13, 11, 14, 12, 13, 10, 14,
                          13, 13, 10, 12, 13, 12, 12, 12, 13, 10, 12, 10, 12, 10, 9, 9, 11, 12,
                          12, 11)  # fmt: skip
_COLUMN_TYPES = ("varchar(100)", "integer", "numeric(18,2)", "boolean DEFAULT false", "jsonb",
                 "timestamptz", "text", "varchar(30)")  # fmt: skip


def _support_table(index: int, table: str, columns: int) -> Migration:
    cols = ["id serial PRIMARY KEY"]
    cols += [f"attr_{i:02d} {_COLUMN_TYPES[(i + index) % len(_COLUMN_TYPES)]}"
             for i in range(1, columns - 2)]  # fmt: skip
    cols += ['"createdAt" timestamptz NOT NULL DEFAULT now()',
             '"updatedAt" timestamptz NOT NULL DEFAULT now()']  # fmt: skip
    day = 8 + index // 2
    name = f"2025{1 + index // 4:02d}{day % 28 + 1:02d}_{index % 2 + 1:02d}_create_{table}.js"
    return Migration(name, f"CREATE TABLE {table} ({', '.join(cols)});")


_INDEXED = (
    "kyc_documents", "vouchers", "merchants", "settlements", "notifications", "audit_logs",
    "sessions", "devices", "payment_requests", "cards", "bank_transfers", "bill_payments",
    "promotions", "support_tickets", "webhooks", "limits", "fees", "card_tokens", "otp_codes",
    "exchange_rates", "app_settings", "loyalty_points", "data_purchases", "airtime_purchases",
    "fee_schedules", "kyc_checks", "merchant_float_accounts", "settlement_items",
    "notification_preferences", "voucher_redemptions", "payment_links", "bank_accounts",
)  # fmt: skip


def _later() -> tuple[Migration, ...]:
    """Indexes added in November, up to the 75th migration (where Production stops)."""
    return tuple(
        Migration(f"202511{1 + i // 2:02d}_{i % 2 + 1:02d}_add_{table}_created_idx.js",
                  f'CREATE INDEX {table}_created_idx ON {table} ("createdAt");')
        for i, table in enumerate(_INDEXED)
    )


# What Production lacks beyond Staging's gap: a column, a table, and their follow-ups.
_RECENT = (
    Migration("20251120_01_add_wallets_daily_limit.js",
              "ALTER TABLE wallets ADD COLUMN \"dailyLimit\" numeric(18,2) NOT NULL DEFAULT 5000;"),
    Migration("20251121_01_create_referrals.js",
              "CREATE TABLE referrals (id serial PRIMARY KEY, \"referrerId\" integer NOT NULL "
              "REFERENCES users (id), \"refereeId\" integer REFERENCES users (id), code "
              "varchar(20) NOT NULL UNIQUE, status varchar(20) NOT NULL DEFAULT 'pending', "
              "\"createdAt\" timestamptz NOT NULL DEFAULT now());"),
    Migration("20251124_01_add_users_marketing_opt_in.js",
              "ALTER TABLE users ADD COLUMN \"marketingOptIn\" boolean NOT NULL DEFAULT false;"),
    Migration("20251125_01_add_transactions_channel.js",
              "ALTER TABLE transactions ADD COLUMN channel varchar(20);"),
    Migration("20251126_01_add_referrals_status_idx.js",
              "CREATE INDEX referrals_status_idx ON referrals (status);"),
    Migration("20251127_01_add_vouchers_expiry.js",
              "ALTER TABLE vouchers ADD COLUMN \"expiresAt\" timestamptz;"),
)

PENDING_FILES = (
    "20251203_01_add_users_preferred_language.js",
    "20251203_02_create_statement_requests.js",
    "20251204_01_add_wallets_frozen_reason.js",
    "20251205_01_add_cards_last_four_idx.js",
    "20251208_01_drop_legacy_sessions_columns.js",
)


def migrations() -> tuple[Migration, ...]:
    """All 85 migrations UAT has applied, in Sequelize's (file name) order."""
    support = tuple(_support_table(i, t, n)
                    for i, (t, n) in enumerate(zip(_SUPPORT, _SUPPORT_COLUMN_COUNTS, strict=True)))
    ordered = sorted((*_CORE, *support, *_later(), *_RECENT), key=lambda m: m.name)
    return (*ordered, *DEC2)


APPLIED = {"uat": 85, "staging": 81, "production": 75}


def applied(env: str) -> tuple[Migration, ...]:
    """The migrations `env` has applied in the runbook's story."""
    return migrations()[: APPLIED[env]]


SEQUELIZE_META = 'CREATE TABLE "SequelizeMeta" (name varchar(255) NOT NULL PRIMARY KEY);'

SAMPLE_DATA = """
INSERT INTO users ("firstName", "lastName", email, "phoneNumber") VALUES
  ('Thandi', 'Nkosi', 'thandi@example.com', '0821234567'),
  ('Pieter', 'van Wyk', 'pieter@example.com', '27831234567'),
  ('Aisha', 'Patel', 'aisha@example.com', '+27841234567');
INSERT INTO wallets ("walletId", "userId", balance)
  SELECT 'WAL-' || "phoneNumber", id, 100 * id FROM users;
INSERT INTO beneficiaries ("userId", name, msisdn)
  SELECT id, "firstName" || '''s mom', '0820000001' FROM users;
INSERT INTO beneficiary_service_accounts ("beneficiaryId", "serviceType", "serviceData")
  SELECT id, 'airtime', '{"msisdn": "0820000001"}' FROM beneficiaries;
INSERT INTO transactions ("transactionId", "walletId", "userId", amount, type, status)
  SELECT 'TX-' || id, 'WAL-' || "phoneNumber", id, 50, 'deposit', 'completed' FROM users;
"""


def database_sql(env: str, with_data: bool = True) -> str:
    """The SQL that builds `env`'s database as its applied migrations left it."""
    steps = applied(env)
    # Data goes in before the Dec 2 backfills so that they have something to rewrite.
    build = [SEQUELIZE_META, *(m.up for m in steps if m not in DEC2)]
    if with_data:
        build.append(SAMPLE_DATA)
    build += [m.up for m in steps if m in DEC2]
    names = ", ".join(f"('{m.name}')" for m in steps)
    build.append(f'INSERT INTO "SequelizeMeta" (name) VALUES {names};')
    return "\n".join(build)


def migrate_sql(steps: tuple[Migration, ...]) -> str:
    """What `sequelize-cli db:migrate` does for `steps`: run each, then record it in SequelizeMeta."""
    names = ", ".join(f"('{m.name}')" for m in steps)
    return "\n".join([*(m.up for m in steps), f'INSERT INTO "SequelizeMeta" (name) VALUES {names};'])


def migration_files() -> tuple[str, ...]:
    """The 90 file names in the project's migrations folder."""
    return tuple(sorted((*(m.name for m in migrations()), *PENDING_FILES)))

-- The history database (driftwatch/store.py). Each "-- version N" section takes the schema from
-- version N-1 to N inside one transaction. Later features append a section (the Slack outbox,
-- the sync audit); a section that has been released is never edited.
-- Times are UTC epoch seconds (REAL), microsecond-exact for any date before the year 2200.

-- version 1
CREATE TABLE episodes (
    id INTEGER PRIMARY KEY,
    comparison TEXT NOT NULL,            -- "uat:staging"
    opened_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    resolved_at REAL,                    -- NULL while the drift lasts
    summary TEXT NOT NULL,               -- JSON: what is drifting now
    first_summary TEXT NOT NULL          -- JSON: what was drifting when it opened
);
-- The database itself refuses a second open episode for a comparison.
CREATE UNIQUE INDEX episodes_one_open ON episodes (comparison) WHERE resolved_at IS NULL;
CREATE INDEX episodes_by_comparison ON episodes (comparison, opened_at);

CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    job TEXT NOT NULL,                   -- "check" or "weekly"
    comparison TEXT NOT NULL,
    reference TEXT NOT NULL,
    target TEXT NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    in_sync INTEGER CHECK (in_sync IN (0, 1)),  -- NULL: could not be checked
    error_reason TEXT,
    error_message TEXT,
    reference_fingerprint TEXT,
    target_fingerprint TEXT,
    full INTEGER NOT NULL CHECK (full IN (0, 1)),  -- 0: carried forward by the cheap path
    report TEXT NOT NULL,                -- the driftwatch.report/v1 document
    episode_id INTEGER REFERENCES episodes (id) ON DELETE SET NULL  -- the episode it opened, kept or resolved
);
CREATE INDEX checks_by_comparison ON checks (comparison, started_at);
CREATE INDEX checks_by_time ON checks (started_at);
-- Deleting an episode looks up the checks that point at it.
CREATE INDEX checks_by_episode ON checks (episode_id);

CREATE TABLE environment_checks (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    env TEXT NOT NULL,
    at REAL NOT NULL,
    ok INTEGER NOT NULL CHECK (ok IN (0, 1)),
    duration_seconds REAL NOT NULL,
    reason TEXT,
    message TEXT,
    server_fingerprint TEXT,
    snapshot_fingerprint TEXT,
    applied_migrations INTEGER,
    failed_migrations INTEGER,
    schema_counts TEXT                   -- JSON: {"tables": 45, ...}
);
CREATE INDEX environment_checks_by_env ON environment_checks (env, at);
CREATE INDEX environment_checks_by_time ON environment_checks (at);

CREATE TABLE snapshots (
    env TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    taken_at REAL NOT NULL,
    confirmed_at REAL NOT NULL,          -- the last time a run found env at this fingerprint
    server_fingerprint TEXT,
    body BLOB NOT NULL,                  -- zlib-compressed driftwatch.snapshot/v1 document
    PRIMARY KEY (env, fingerprint)
);
CREATE INDEX snapshots_latest ON snapshots (env, confirmed_at);

-- Sequelize records no timestamps: driftwatch's first sighting is the only record of when.
CREATE TABLE migrations_seen (
    env TEXT NOT NULL,
    migration_id TEXT NOT NULL,
    first_seen_at REAL NOT NULL,
    PRIMARY KEY (env, migration_id)
) WITHOUT ROWID;

-- version 2
-- The Slack outbox: every alert driftwatch decided to send, kept until Slack accepted it.
-- `dedupe_key` names the decision (an episode's opening, its nth change, a reminder slot...),
-- so a restart that re-derives the same decision finds it here and sends nothing twice.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    dedupe_key TEXT NOT NULL UNIQUE,
    comparison TEXT,                     -- NULL for alerts about an environment or the week
    kind TEXT NOT NULL,                  -- opened, changed, reminder, resolved, unreachable, ...
    severity TEXT NOT NULL,              -- info, warning, critical
    created_at REAL NOT NULL,
    channel TEXT,                        -- NULL: the configured default (or the webhook's own)
    payload TEXT NOT NULL,               -- JSON: {"text", "blocks"} as sent
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at REAL                         -- NULL until Slack accepted it
);
CREATE INDEX alerts_pending ON alerts (id) WHERE sent_at IS NULL;
CREATE INDEX alerts_by_comparison ON alerts (comparison, created_at);

-- version 3
-- The sync audit: every `sync --apply` (by a person or by the daemon) that got as far as a
-- decision, refused or run, with who, when, what was planned and what happened.
CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    comparison TEXT NOT NULL,
    reference TEXT NOT NULL,
    target TEXT NOT NULL,
    actor TEXT NOT NULL,                 -- the OS user, or "daemon (auto)"
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    result TEXT NOT NULL,                -- applied, incomplete, failed, timeout, refused
    reasons TEXT NOT NULL,               -- JSON: refusals, or the preconditions overridden (--force ...)
    planned TEXT NOT NULL,               -- JSON: migration ids missing before, in order
    applied TEXT NOT NULL,               -- JSON: ids the re-check found applied
    still_missing TEXT NOT NULL,         -- JSON: ids still missing after
    schema_equal INTEGER CHECK (schema_equal IN (0, 1)),  -- NULL: not re-checked
    command TEXT NOT NULL,               -- JSON argv (never holds a password: that goes by env)
    workdir TEXT NOT NULL,
    target_address TEXT NOT NULL,        -- user@host:port/db, no password
    target_fingerprint TEXT,             -- the target's snapshot after the re-check (in snapshots)
    exit_code INTEGER,                   -- NULL: not run, or killed on timeout
    output TEXT NOT NULL                 -- the command's output (its tail when long), redacted
);
CREATE INDEX sync_runs_by_target ON sync_runs (target, started_at);

-- version 4
-- Set before each post to Slack and cleared when Slack's answer is known: an alert that still has
-- it after a timeout, a dropped connection or a killed process may have been posted. With a bot
-- token it is looked up in the channel's history (by the key in the message's metadata) before it
-- is sent again; its time bounds that look-up. Wall-clock epoch seconds, like Slack's ts.
ALTER TABLE alerts ADD COLUMN attempt_at REAL;

-- Netzwächter sandbox seed (PostgreSQL 15).
--
-- Run once, as superuser, into the existing empty database `netzwaechter`:
--   psql -v ON_ERROR_STOP=1 -v app_password=... -v monitor_password=... \
--        -d netzwaechter -f seed.sql
-- The server must be started with shared_preload_libraries=pg_stat_statements.
--
-- Parts marked "TROUBLE" are deliberate defects that the runbook's checks are
-- expected to find: a redundant index, an unused index and a table that keeps
-- dead tuples because autovacuum is off for it.

\set ON_ERROR_STOP on

-- Both passwords come from psql variables; refuse to run without them.
\if :{?app_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'seed.sql needs -v app_password=...'; END $$;
\endif
\if :{?monitor_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'seed.sql needs -v monitor_password=...'; END $$;
\endif

-- PostgreSQL 15 does not normalise utility statements in pg_stat_statements:
-- keep the role statements (which carry passwords) out of it.
SET pg_stat_statements.track_utility = off;

-- Reproducible random data (timestamps still depend on now()).
SELECT setseed(0.42);

CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------

-- Roles are cluster-wide: create them if missing, then (re)set the passwords.
SELECT 'CREATE ROLE netzwaechter_app'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'netzwaechter_app')
\gexec
SELECT 'CREATE ROLE netzops_monitor'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'netzops_monitor')
\gexec

-- Application role: owns the app tables.
ALTER ROLE netzwaechter_app LOGIN PASSWORD :'app_password';

-- Monitoring role for the runbook: statistics views, read-only, bounded.
ALTER ROLE netzops_monitor LOGIN PASSWORD :'monitor_password';
GRANT pg_monitor TO netzops_monitor;
ALTER ROLE netzops_monitor SET default_transaction_read_only = on;
ALTER ROLE netzops_monitor SET statement_timeout = '30s';
ALTER ROLE netzops_monitor SET lock_timeout = '5s';

GRANT CONNECT ON DATABASE netzwaechter TO netzwaechter_app, netzops_monitor;
GRANT USAGE ON SCHEMA public TO netzwaechter_app, netzops_monitor;

-- ---------------------------------------------------------------------------
-- users: 1 admin, 4 operators, 45 viewers (viewer41..45 inactive).
-- Every sandbox user's password is 'sandbox-password'.
-- ---------------------------------------------------------------------------

CREATE TABLE users (
    id            serial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    email         text NOT NULL UNIQUE,
    role          text NOT NULL DEFAULT 'viewer'
                  CHECK (role IN ('admin', 'operator', 'viewer')),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    password_hash text NOT NULL
);

INSERT INTO users (username, email, role, is_active, created_at, password_hash)
SELECT u.username,
       u.username || '@netzwaechter.example',
       u.role,
       u.is_active,
       -- admin is the oldest account (365 days), the last viewer the newest.
       now() - interval '365 days' * (50 - u.ord) / 49,
       crypt('sandbox-password', gen_salt('bf', 6))
  FROM (
        SELECT 1 AS ord, 'admin' AS username, 'admin' AS role, true AS is_active
        UNION ALL
        SELECT 1 + n, 'operator' || n, 'operator', true
          FROM generate_series(1, 4) AS n
        UNION ALL
        SELECT 5 + n, 'viewer' || n, 'viewer', n <= 40
          FROM generate_series(1, 45) AS n
       ) AS u
 ORDER BY u.ord;

-- ---------------------------------------------------------------------------
-- sites: site-001 .. site-100
-- ---------------------------------------------------------------------------

CREATE TABLE sites (
    id         serial PRIMARY KEY,
    name       text NOT NULL,
    url        text NOT NULL,
    created_at timestamptz DEFAULT now()
);

INSERT INTO sites (name, url)
SELECT 'site-' || lpad(n::text, 3, '0'),
       'https://site-' || lpad(n::text, 3, '0') || '.example'
  FROM generate_series(1, 100) AS n
 ORDER BY n;

-- ---------------------------------------------------------------------------
-- measurements: 250,000 checks over the last 7 days, 2,500 per site (one
-- every ~4 minutes), oldest first. About 2% fail (500, 503 or a 504 timeout).
-- Loaded first, constrained and indexed afterwards, which is much faster.
-- ---------------------------------------------------------------------------

CREATE TABLE measurements (
    id          bigserial PRIMARY KEY,
    site_id     int NOT NULL,
    measured_at timestamptz NOT NULL,
    status_code int NOT NULL,
    response_ms real NOT NULL,
    ok          boolean NOT NULL
);

INSERT INTO measurements (site_id, measured_at, status_code, response_ms, ok)
SELECT r.site_id,
       -- tick 0 is 7 days ago, tick 2499 is now; a few seconds of jitter.
       now() - interval '7 days' * (2499 - r.tick) / 2500
             - interval '1 second' * floor(r.jitter * 30),
       CASE WHEN r.fail < 0.008 THEN 500
            WHEN r.fail < 0.014 THEN 503
            WHEN r.fail < 0.020 THEN 504
            ELSE 200 END,
       CASE WHEN r.fail < 0.014 THEN 20 + r.speed * 200       -- fast error page
            WHEN r.fail < 0.020 THEN 10000                    -- check timed out
            WHEN r.speed < 0.01 THEN 800 + r.jitter * 4200    -- occasional spike
            ELSE 50 + r.speed * r.speed * 750 END,            -- mostly 50..800
       r.fail >= 0.020
  FROM (
        -- A subquery with volatile columns is evaluated once per row, so each
        -- row uses one consistent set of random draws.
        SELECT g / 100 AS tick,
               g % 100 + 1 AS site_id,
               random() AS fail,
               random() AS speed,
               random() AS jitter
          FROM generate_series(0, 249999) AS g
       ) AS r
 ORDER BY r.tick, r.site_id;

ALTER TABLE measurements
    ADD CONSTRAINT measurements_site_id_fkey
    FOREIGN KEY (site_id) REFERENCES sites (id);

-- The index the app uses (latest measurement per site, time windows per site).
CREATE INDEX measurements_site_time_idx ON measurements (site_id, measured_at DESC);

-- TROUBLE: redundant, a prefix of measurements_site_time_idx.
CREATE INDEX measurements_site_id_idx ON measurements (site_id);

-- TROUBLE: unused, no query of the app filters or sorts on response_ms.
CREATE INDEX measurements_response_ms_idx ON measurements (response_ms);

-- ---------------------------------------------------------------------------
-- alerts: 20,000 alerts over the last 30 days.
-- ---------------------------------------------------------------------------

CREATE TABLE alerts (
    id          serial PRIMARY KEY,
    site_id     int REFERENCES sites,
    priority    text CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
    message     text,
    created_at  timestamptz,
    resolved_at timestamptz NULL
);

INSERT INTO alerts (site_id, priority, message, created_at)
SELECT r.site_id,
       CASE WHEN r.p < 0.02 THEN 'P0'
            WHEN r.p < 0.10 THEN 'P1'
            WHEN r.p < 0.40 THEN 'P2'
            ELSE 'P3' END,
       'site-' || lpad(r.site_id::text, 3, '0') || ': ' ||
       CASE floor(r.kind * 4)
            WHEN 0 THEN 'HTTP 503 on 3 consecutive checks'
            WHEN 1 THEN 'response time above 2000 ms'
            WHEN 2 THEN 'check timed out after 10000 ms'
            ELSE 'HTTP 500 on 2 consecutive checks' END,
       now() - interval '30 days' * r.age
  FROM (
        SELECT floor(random() * 100)::int + 1 AS site_id,
               random() AS p,
               random() AS kind,
               random() AS age
          FROM generate_series(1, 20000)
       ) AS r
 ORDER BY r.age DESC;

-- TROUBLE: autovacuum is off for alerts, and a quarter of the rows is updated
-- afterwards, so the table keeps ~5,000 dead tuples (pg_stat_user_tables.n_dead_tup).
ALTER TABLE alerts SET (autovacuum_enabled = false);

UPDATE alerts
   SET resolved_at = created_at + interval '1 minute' * (5 + (id * 37) % 240)
 WHERE id % 4 = 0;

-- ---------------------------------------------------------------------------
-- Ownership and grants (ALTER TABLE ... OWNER also moves the serial sequences).
-- ---------------------------------------------------------------------------

ALTER TABLE users        OWNER TO netzwaechter_app;
ALTER TABLE sites        OWNER TO netzwaechter_app;
ALTER TABLE measurements OWNER TO netzwaechter_app;
ALTER TABLE alerts       OWNER TO netzwaechter_app;

-- The monitor's read access (least privilege, no password hashes): grants.sql, which
-- `netzops sandbox up` also applies to existing databases (on-up.sql).
\ir grants.sql

-- Planner statistics for the small tables only. alerts is deliberately not
-- analysed (see above); measurements is left to autovacuum.
ANALYZE users;
ANALYZE sites;

-- Start pg_stat_statements clean, so the seed's bulk statements do not show
-- up among the app's top queries.
SELECT pg_stat_statements_reset()
 WHERE current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%';

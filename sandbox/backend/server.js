'use strict';

// Netzwächter sandbox backend: an Express API over PostgreSQL and Redis that
// behaves like the production backend (endpoints, log lines) and can be made
// to misbehave on purpose (slow queries, errors, a memory leak, a crash).

const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const express = require('express');
const pg = require('pg');
const { createClient } = require('redis');

// ---------------------------------------------------------------------------
// Logging: one line per event, "<ISO timestamp> <LEVEL> <message>".
// A log parser depends on these formats: change them only together with it.
// Passwords, secrets and session ids are never logged.
// ---------------------------------------------------------------------------

function log(level, message) {
  process.stdout.write(`${new Date().toISOString()} ${level} ${message}\n`);
}

// Error messages and SQL may span lines; a log line may not.
function oneLine(text) {
  return String(text).replace(/\s+/g, ' ').trim();
}

function fatal(message) {
  log('ERROR', `fatal: ${message}`);
  process.exit(1);
}

function elapsedMs(startedNs) {
  return Number(process.hrtime.bigint() - startedNs) / 1e6;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// Configuration from the environment
// ---------------------------------------------------------------------------

const env = process.env;

if (env.FAULT_CRASH_ON_START === '1') {
  fatal('injected crash on start (FAULT_CRASH_ON_START=1)');
}

// A secret comes from NAME, or from the file named by NAME_FILE (Docker secrets).
function secret(name) {
  if (env[name]) return env[name];
  const file = env[`${name}_FILE`];
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, 'utf8').replace(/[\r\n]+$/, '');
  } catch (err) {
    return fatal(`cannot read ${name}_FILE (${err.code || 'error'})`);
  }
}

function numberFromEnv(name, fallback, min, max, integer = false) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    fatal(`invalid environment variable ${name}`);
  }
  return value;
}

const config = {
  port: numberFromEnv('PORT', 5000, 1, 65535, true),
  pg: {
    host: env.PGHOST,
    port: numberFromEnv('PGPORT', 5432, 1, 65535, true),
    database: env.PGDATABASE || 'netzwaechter',
    user: env.PGUSER || 'netzwaechter_app',
    password: secret('PGPASSWORD'),
  },
  redis: {
    host: env.REDIS_HOST,
    port: numberFromEnv('REDIS_PORT', 6379, 1, 65535, true),
    password: secret('REDIS_PASSWORD'),
  },
  // Required like in production. Sessions here are random server-side ids
  // looked up in Redis, so nothing has to be signed with it.
  sessionSecret: secret('SESSION_SECRET'),
  slowQueryMs: numberFromEnv('SLOW_QUERY_MS', 200, 0, 3600000),
  faultApi: env.SANDBOX_FAULT_API === '1',
  memoryLimitMb: numberFromEnv('FAULT_MEMORY_LIMIT_MB', 256, 1, 1048576),
};

const missing = [
  ['PGHOST', config.pg.host],
  ['REDIS_HOST', config.redis.host],
  ['SESSION_SECRET', config.sessionSecret],
].filter(([, value]) => !value);
for (const [name] of missing) log('ERROR', `fatal: missing environment variable ${name}`);
if (missing.length > 0) process.exit(1);

// ---------------------------------------------------------------------------
// Fault switches: initial values from the environment, changeable at run time
// through /api/_sandbox/faults when SANDBOX_FAULT_API=1.
// ---------------------------------------------------------------------------

const FAULT_LIMITS = {
  slow_query_ms: [0, 60000],          // extra pg_sleep in the monitoring queries
  error_rate: [0, 1],                 // fraction of /api/* requests answered 500
  memory_growth_mb_per_s: [0, 1024],  // MB retained per second (a leak)
};

const faults = {
  slow_query_ms: numberFromEnv('FAULT_SLOW_QUERY_MS', 0, ...FAULT_LIMITS.slow_query_ms),
  error_rate: numberFromEnv('FAULT_ERROR_RATE', 0, ...FAULT_LIMITS.error_rate),
  memory_growth_mb_per_s: numberFromEnv('FAULT_MEMORY_GROWTH_MB_PER_S', 0, ...FAULT_LIMITS.memory_growth_mb_per_s),
};

// The leak: arrays of doubles live on the V8 heap, so heapUsed grows as with
// a real leak. Allocated in 0.5 MB chunks, checked once a second.
const LEAK_CHUNK_MB = 0.5;
const leak = [];
let leakedMb = 0;
let leakOwedMb = 0;
let leakTicks = 0;

const toMb = (bytes) => Math.round(bytes / (1024 * 1024));

setInterval(() => {
  const rate = faults.memory_growth_mb_per_s;
  if (!(rate > 0)) return;
  leakOwedMb += rate;
  while (leakOwedMb >= LEAK_CHUNK_MB) {
    leak.push(new Array((LEAK_CHUNK_MB * 1024 * 1024) / 8).fill(Math.random()));
    leakedMb += LEAK_CHUNK_MB;
    leakOwedMb -= LEAK_CHUNK_MB;
  }
  const { heapUsed, rss } = process.memoryUsage();
  if (leakedMb > config.memoryLimitMb) {
    // Mimics Node's own heap exhaustion (which aborts: exit code 134).
    log('ERROR', `out of memory: JavaScript heap out of memory heap_used_mb=${toMb(heapUsed)}`);
    process.exit(134);
  }
  leakTicks += 1;
  if (leakTicks % 5 === 0) {
    log('WARN', `memory growing heap_used_mb=${toMb(heapUsed)} rss_mb=${toMb(rss)}`);
  }
}, 1000).unref();

function faultState() {
  return { ...faults, memory_limit_mb: config.memoryLimitMb, memory_retained_mb: leakedMb };
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

// bigint columns (ids, count(*)) as numbers: the values here stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

const pool = new pg.Pool({
  ...config.pg,
  max: 10,
  connectionTimeoutMillis: 5000,
  statement_timeout: 30000,
  application_name: 'netzwaechter-backend',
});

// An idle client losing its connection (e.g. PostgreSQL restarting) must not
// crash the process; the pool replaces it.
pool.on('error', (err) => log('ERROR', `database error: ${oneLine(err.message)}`));

// Every query of the app goes through here: errors and slow queries are logged.
// The time includes waiting for a free pool connection, as the caller sees it.
async function query(sql, params = []) {
  const started = process.hrtime.bigint();
  try {
    return await pool.query(sql, params);
  } catch (err) {
    log('ERROR', `database error: ${oneLine(err.message)}`);
    err.logged = true;
    throw err;
  } finally {
    const ms = elapsedMs(started);
    if (ms > config.slowQueryMs) {
      const text = oneLine(sql).slice(0, 120).replace(/"/g, "'");
      log('WARN', `slow query duration_ms=${ms.toFixed(1)} query="${text}"`);
    }
  }
}

// The monitoring queries carry the slow-query fault. The delay runs inside
// PostgreSQL: the uncorrelated sub-select becomes an InitPlan in a one-time
// filter, so pg_sleep runs exactly once per statement, before any row, and
// pg_stat_activity / pg_stat_statements see a genuinely slow statement.
function monitoringQuery(sql, params = []) {
  const delayMs = faults.slow_query_ms;
  if (!(delayMs > 0)) return query(sql, params);
  const n = params.length + 1;
  return query(
    `SELECT * FROM (${sql.trim()}) AS q WHERE (SELECT pg_sleep($${n}::float8 / 1000)) IS NOT NULL`,
    [...params, delayMs],
  );
}

// Until PostgreSQL first answers, say so in the log and keep trying; requests
// meanwhile fail with 500 (the pool connects on demand).
async function waitForDatabase() {
  while (!shuttingDown) {
    try {
      await pool.query('SELECT 1');
      log('INFO', 'database connected');
      return;
    } catch (err) {
      log('ERROR', `database error: ${oneLine(err.message)}`);
      await sleep(2000);
    }
  }
}

// ---------------------------------------------------------------------------
// Redis: sessions and the stats cache
// ---------------------------------------------------------------------------

const REDIS_TIMEOUT_MS = 2000;

const redis = createClient({
  socket: {
    host: config.redis.host,
    port: config.redis.port,
    connectTimeout: 5000,
    // Reconnect forever, backing off to one attempt every 5 s.
    reconnectStrategy: (retries) => Math.min(250 * (retries + 1), 5000),
  },
  password: config.redis.password,
  // While disconnected, fail commands at once (503) instead of queueing them.
  disableOfflineQueue: true,
});

redis.on('error', (err) => log('ERROR', `redis error: ${oneLine(err.message)}`));
redis.on('ready', () => log('INFO', 'redis connected'));

// Runs one Redis command with a timeout (a paused Redis would otherwise hang
// the request); failures are logged and become 503.
async function redisCall(command) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`command timed out after ${REDIS_TIMEOUT_MS} ms`)), REDIS_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(command), timeout]);
  } catch (err) {
    log('ERROR', `redis error: ${oneLine(err.message)}`);
    throw Object.assign(err, { logged: true, status: 503 });
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// Request helpers
// ---------------------------------------------------------------------------

const SESSION_TTL_S = 3600;
const STATS_CACHE_KEY = 'cache:stats';
const STATS_CACHE_TTL_S = 10;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// With 'trust proxy' req.ip is the client named in X-Forwarded-For by nginx.
function clientIp(req) {
  let ip = req.ip || req.socket.remoteAddress || '';
  ip = ip.replace(/^::ffff:/, '');
  return net.isIP(ip) ? ip : '-';
}

function requestPath(req) {
  return req.originalUrl.split('?')[0];
}

// Usernames come from the client: keep them harmless in the log.
function logSafeUser(username) {
  return String(username).replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 64) || '-';
}

function cookieValue(req, name) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

// The session id from the X-Session-Id header or the sid cookie, if well-formed.
function sessionId(req) {
  const id = req.get('x-session-id') || cookieValue(req, 'sid');
  return id && UUID_RE.test(id) ? id : null;
}

// A whole number in [min, max] from a string, else null.
function parseIntInRange(value, min, max) {
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

// Express 4 does not catch rejected promises: pass them on to the error handler.
const route = (handler) => (req, res, next) => handler(req, res).catch(next);

// ---------------------------------------------------------------------------
// App
// ---------------------------------------------------------------------------

const app = express();
app.set('trust proxy', true);
app.disable('x-powered-by');
app.disable('etag');

// Request log line, written when the response has been sent.
app.use((req, res, next) => {
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    const status = res.statusCode;
    const level = status >= 500 ? 'ERROR' : status >= 400 ? 'WARN' : 'INFO';
    log(level, `request method=${req.method} path=${requestPath(req)} status=${status} `
      + `latency_ms=${elapsedMs(started).toFixed(1)} ip=${clientIp(req)}`);
  });
  next();
});

// Error-rate fault. The fault API itself is exempt, so it can always be reset.
app.use('/api', (req, res, next) => {
  if (req.path.startsWith('/_sandbox/') || !(Math.random() < faults.error_rate)) return next();
  log('ERROR', `injected fault path=${requestPath(req)}`);
  return res.status(500).json({ error: 'internal error' });
});

app.use('/api', express.json({ limit: '16kb' }));

app.get('/api/health', (req, res) => {
  res.json({ status: 'ok' });
});

// Also the container health check: keep it cheap.
app.get('/api/users', route(async (req, res) => {
  const { rows } = await query(
    'SELECT id, username, email, role, is_active, created_at FROM users ORDER BY id',
  );
  res.json(rows);
}));

app.post('/api/login', route(async (req, res) => {
  const { username, password } = req.body || {};
  if (typeof username !== 'string' || typeof password !== 'string'
      || !username || !password || username.length > 256 || password.length > 1024) {
    return res.status(400).json({ error: 'username and password required' });
  }
  const ip = clientIp(req);

  const { rows } = await query(
    'SELECT id, username, role, is_active FROM users WHERE username = $1 AND password_hash = crypt($2, password_hash)',
    [username, password],
  );
  const user = rows[0];

  if (!user || !user.is_active) {
    let reason = 'inactive';
    if (!user) {
      const known = await query('SELECT 1 FROM users WHERE username = $1', [username]);
      reason = known.rowCount > 0 ? 'bad_password' : 'unknown_user';
    }
    log('WARN', `failed login user=${logSafeUser(username)} ip=${ip} reason=${reason}`);
    return res.status(401).json({ error: 'invalid credentials' });
  }

  const id = crypto.randomUUID();
  const session = {
    user_id: user.id,
    username: user.username,
    role: user.role,
    created_at: new Date().toISOString(),
  };
  await redisCall(() => redis.set(`session:${id}`, JSON.stringify(session), { EX: SESSION_TTL_S }));
  log('INFO', `login ok user=${logSafeUser(user.username)} ip=${ip}`);
  res.cookie('sid', id, { httpOnly: true, sameSite: 'lax', path: '/', maxAge: SESSION_TTL_S * 1000 });
  return res.json({ session: id });
}));

app.post('/api/logout', route(async (req, res) => {
  const id = sessionId(req);
  if (id) await redisCall(() => redis.del(`session:${id}`));
  res.clearCookie('sid', { path: '/' });
  res.json({ status: 'logged out' });
}));

app.get('/api/me', route(async (req, res) => {
  const id = sessionId(req);
  const stored = id ? await redisCall(() => redis.get(`session:${id}`)) : null;
  if (!stored) return res.status(401).json({ error: 'not authenticated' });
  return res.json(JSON.parse(stored));
}));

// Every site with its latest measurement: one index probe per site on
// measurements_site_time_idx (site_id, measured_at DESC).
const SITES_SQL = `
  SELECT s.id, s.name, s.url, m.measured_at, m.status_code, m.response_ms, m.ok
    FROM sites s
    LEFT JOIN LATERAL (
          SELECT measured_at, status_code, response_ms, ok
            FROM measurements
           WHERE site_id = s.id
           ORDER BY measured_at DESC
           LIMIT 1
         ) m ON true
   ORDER BY s.id`;

app.get('/api/sites', route(async (req, res) => {
  const { rows } = await monitoringQuery(SITES_SQL);
  res.json(rows.map((r) => ({
    id: r.id,
    name: r.name,
    url: r.url,
    latest: r.measured_at === null ? null : {
      measured_at: r.measured_at,
      status_code: r.status_code,
      response_ms: r.response_ms,
      ok: r.ok,
    },
  })));
}));

const MEASUREMENTS_SQL = `
  SELECT id, measured_at, status_code, response_ms, ok
    FROM measurements
   WHERE site_id = $1 AND measured_at >= now() - make_interval(hours => $2)
   ORDER BY measured_at DESC
   LIMIT 500`;

app.get('/api/sites/:id/measurements', route(async (req, res) => {
  const siteId = parseIntInRange(req.params.id, 1, 2147483647);
  if (siteId === null) return res.status(400).json({ error: 'site id must be a positive integer' });
  const hours = req.query.hours === undefined ? 24 : parseIntInRange(req.query.hours, 1, 168);
  if (hours === null) return res.status(400).json({ error: 'hours must be an integer from 1 to 168' });

  const site = await query('SELECT id FROM sites WHERE id = $1', [siteId]);
  if (site.rowCount === 0) return res.status(404).json({ error: 'site not found' });

  const { rows } = await monitoringQuery(MEASUREMENTS_SQL, [siteId, hours]);
  return res.json(rows);
}));

const STATS_SQL = `
  SELECT count(*) FILTER (WHERE ok) AS ok,
         count(*) FILTER (WHERE NOT ok) AS failed,
         round(avg(response_ms)::numeric, 1)::float8 AS avg_response_ms
    FROM measurements
   WHERE measured_at >= now() - interval '1 hour'`;

// Cached in Redis for 10 s. If Redis is down the stats still come from the
// database (the failure is logged).
app.get('/api/stats', route(async (req, res) => {
  const cached = await redisCall(() => redis.get(STATS_CACHE_KEY)).catch(() => null);
  if (cached) return res.json({ ...JSON.parse(cached), cached: true });

  const { rows: [row] } = await monitoringQuery(STATS_SQL);
  const stats = { window: '1h', ...row, computed_at: new Date().toISOString() };
  await redisCall(() => redis.set(STATS_CACHE_KEY, JSON.stringify(stats), { EX: STATS_CACHE_TTL_S }))
    .catch(() => {});
  return res.json({ ...stats, cached: false });
}));

// Probes report measurements (the traffic generator plays the probes), so the data
// stays current and the tables see real writes.
app.post('/api/measurements', route(async (req, res) => {
  const { site_id: siteId, status_code: status, response_ms: ms } = req.body || {};
  if (!Number.isInteger(siteId) || !Number.isInteger(status) || status < 100 || status > 599
      || typeof ms !== 'number' || !(ms >= 0 && ms < 600000)) {
    return res.status(400).json({ error: 'need integer site_id, status_code 100-599, response_ms >= 0' });
  }
  const { rows: [row] } = await query(
    `INSERT INTO measurements (site_id, measured_at, status_code, response_ms, ok)
     SELECT id, now(), $2, $3, $2 < 400 FROM sites WHERE id = $1 RETURNING id`,
    [siteId, status, ms]);
  if (!row) return res.status(404).json({ error: 'site not found' });
  return res.status(201).json({ id: row.id });
}));

// The availability report: every site over N days. A deliberately heavy query (it reads
// the whole window), the sandbox's natural source of "slow query" lines.
const REPORT_SQL = `
  SELECT s.id, s.name,
         count(*) AS checks,
         round(100.0 * avg(CASE WHEN m.ok THEN 1 ELSE 0 END), 2)::float8 AS availability_percent,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY m.response_ms)::float8 AS p95_response_ms
    FROM sites s JOIN measurements m ON m.site_id = s.id
   WHERE m.measured_at >= now() - make_interval(days => $1)
   GROUP BY s.id, s.name
   ORDER BY availability_percent, s.id`;

app.get('/api/report', route(async (req, res) => {
  const days = req.query.days === undefined ? 7 : parseIntInRange(req.query.days, 1, 31);
  if (days === null) return res.status(400).json({ error: 'days must be an integer from 1 to 31' });
  const { rows } = await monitoringQuery(REPORT_SQL, [days]);
  return res.json(rows);
}));

if (config.faultApi) {
  app.get('/api/_sandbox/faults', (req, res) => {
    res.json(faultState());
  });

  // Sets any of the run-time faults; all values are checked before any is applied.
  app.post('/api/_sandbox/faults', (req, res) => {
    const body = req.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      return res.status(400).json({ error: 'expected a JSON object' });
    }
    const updates = {};
    for (const [key, value] of Object.entries(body)) {
      if (!Object.hasOwn(FAULT_LIMITS, key)) {
        return res.status(400).json({ error: `unknown fault: ${key}` });
      }
      const [min, max] = FAULT_LIMITS[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
        return res.status(400).json({ error: `${key} must be a number from ${min} to ${max}` });
      }
      updates[key] = value;
    }
    Object.assign(faults, updates);
    return res.json(faultState());
  });
}

app.use((req, res) => {
  res.status(404).json({ error: 'not found' });
});

// Error handler (Express recognises it by its four parameters).
app.use((err, req, res, next) => {
  // Client errors from the body parser (bad JSON, body too large).
  if (err.expose && err.status >= 400 && err.status < 500) {
    return res.status(err.status).json({ error: 'bad request' });
  }
  if (!err.logged) log('ERROR', `internal error: ${oneLine(err.message)}`);
  if (err.status === 503) return res.status(503).json({ error: 'service unavailable' });
  return res.status(500).json({ error: 'internal error' });
});

// ---------------------------------------------------------------------------
// Start and stop
// ---------------------------------------------------------------------------

let shuttingDown = false;

const server = app.listen(config.port, '0.0.0.0', () => {
  log('INFO', `backend listening port=${config.port} pid=${process.pid}`);
});
server.on('error', (err) => fatal(`cannot listen on port ${config.port} (${err.code || err.message})`));

// connect() keeps retrying until Redis answers; failures arrive as 'error' events.
redis.connect().catch(() => {});
waitForDatabase();

process.on('unhandledRejection', (err) => {
  log('ERROR', `internal error: ${oneLine(err && err.message ? err.message : err)}`);
});

// Docker waits 10 s after SIGTERM: close everything, but give up after 3 s.
async function shutdown(signal) {
  if (shuttingDown) return;
  shuttingDown = true;
  log('INFO', `shutting down signal=${signal}`);
  const closing = Promise.allSettled([
    new Promise((resolve) => server.close(resolve)),
    pool.end(),
    Promise.resolve().then(() => (redis.isOpen ? redis.disconnect() : undefined)),
  ]);
  await Promise.race([closing, sleep(3000)]);
  process.exit(0);
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

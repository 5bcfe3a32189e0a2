// The Docker-free local Supabase stack: a private PostgreSQL 15 cluster from
// Debian packages (or, with PG_MAJOR=17, PostgreSQL 17 run from a Debian trixie
// root: local-stack/pg-root.mjs), the Supabase baseline, and the real Supabase
// CLI applying migrations as the non-superuser `postgres`. Shared by
// start/stop/status and by the test runner.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync, chownSync, statSync, mkdtempSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pgRoot from './pg-root.mjs';
import { trustPrivilegedExtensions } from './supautils.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const stateDir = path.join(repoRoot, '.local-stack');

// Fixed local values, identical to what `supabase start` uses.
export const local = {
  apiPort: Number(process.env.LOCAL_STACK_API_PORT ?? 54321),
  dbPort: Number(process.env.LOCAL_STACK_DB_PORT ?? 54322),
  password: 'postgres',
  jwtSecret: 'super-secret-jwt-token-with-at-least-32-characters-long',
  anonKey:
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0',
  serviceRoleKey:
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU',
  publishableKey: 'sb_publishable_ACJWlzQHlZjBrEguHvfOxg_3BJgxAaH',
  secretKey: 'sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz',
  // Local only, like the JWT secret: the Standard Webhooks secret the webhook
  // function verifies with (override in supabase/functions/.env).
  webhookSecret: 'whsec_Y2hhdC1iYWNrZW5kIGxvY2FsIHdlYmhvb2sgc2VjcmV0IQ==',
};

/** Local values edge functions get unless supabase/functions/.env sets them. */
export const localFunctionDefaults = { WHOP_WEBHOOK_SECRET: local.webhookSecret };

export const dbUrl = (port, { user = 'postgres', db = 'postgres' } = {}) =>
  `postgresql://${user}:${local.password}@127.0.0.1:${port}/${db}`;

// The server's major version: 15 (the default; Debian bookworm's packages on
// the host) or 17 (PG_MAJOR=17: Debian trixie's packages in a chroot root).
export const pgMajor = (() => {
  const v = process.env.PG_MAJOR || '15';
  if (v !== '15' && v !== String(pgRoot.major)) {
    throw new Error(`PG_MAJOR=${v}: the local stack runs PostgreSQL 15 (the default) or ${pgRoot.major} (PG_MAJOR=${pgRoot.major}).`);
  }
  return Number(v);
})();
const inRoot = pgMajor === pgRoot.major;

// Client programs (psql, pgbench) always come from the host's PostgreSQL 15
// packages: they talk to either server over TCP. With PG_MAJOR=15 the server
// programs come from the same folder.
const pgBinDir = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
export const pgBin = (name) => path.join(pgBinDir, name);
/** The active major's share folder as seen from the host (extension control files live in its extension/). */
export const pgShareDir = inRoot ? pgRoot.shareDir : (process.env.PG_SHARE_DIR ?? '/usr/share/postgresql/15');

export const log = (msg) => process.stderr.write(`${msg}\n`);

export class StackError extends Error {}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.error) throw new StackError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    throw new StackError(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function rootCall(fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof pgRoot.RootError) throw new StackError(e.message);
    throw e;
  }
}

// A server program (initdb, pg_ctl) as [cmd, args, extra env]. PostgreSQL
// refuses to run as root: when we are root, PostgreSQL 15 runs as the
// `postgres` OS user that the Debian package creates; PostgreSQL 17 always runs
// inside its root with chroot, as that root's `postgres` user. Paths in args
// are host paths made with serverPath().
function serverCommand(name, args) {
  if (inRoot) return rootCall(() => pgRoot.serverCommand(name, args));
  const cmd = pgBin(name);
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args], {}] : [cmd, args, {}];
}

/** A host path as the server sees it (inside the root for 17; unchanged for 15). */
function serverPath(hostFile) {
  return inRoot ? rootCall(() => pgRoot.toRootPath(hostFile)) : hostFile;
}

function runServer(name, args, opts = {}) {
  const [c, a, env] = serverCommand(name, args);
  return run(c, a, inRoot ? { ...opts, env } : opts);
}

// ---------------------------------------------------------------------------
// System packages
// ---------------------------------------------------------------------------
const required = inRoot ? [
  // the server is in the root; the host needs the clients
  { pkg: 'postgresql-client-15', present: () => existsSync(pgBin('psql')) },
  { pkg: 'libtap-parser-sourcehandler-pgtap-perl', present: () => commandExists('pg_prove') },
] : [
  { pkg: 'postgresql-15', present: () => existsSync(pgBin('postgres')) },
  { pkg: 'postgresql-15-pgtap', present: () => existsSync(path.join(pgShareDir, 'extension/pgtap.control')) },
  { pkg: 'libtap-parser-sourcehandler-pgtap-perl', present: () => commandExists('pg_prove') },
  { pkg: 'postgresql-15-cron', present: () => existsSync(path.join(pgShareDir, 'extension/pg_cron.control')) },
  {
    pkg: 'postgresql-15-plpgsql-check',
    present: () => existsSync(path.join(pgShareDir, 'extension/plpgsql_check.control')),
  },
  { pkg: 'postgresql-15-postgis-3', present: () => existsSync(path.join(pgShareDir, 'extension/postgis.control')) },
];

function commandExists(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
}

export function ensurePackages() {
  ensureHostPackages();
  if (inRoot) rootCall(() => pgRoot.ensureRoot());
}

function ensureHostPackages() {
  const missing = required.filter((r) => !r.present()).map((r) => r.pkg);
  if (missing.length === 0) return;
  if (isRoot() && commandExists('apt-get')) {
    log(`Installing missing system packages: ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    run('apt-get', ['install', '-y', '-qq', ...missing], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    const still = required.filter((r) => !r.present()).map((r) => r.pkg);
    if (still.length) throw new StackError(`apt-get did not provide: ${still.join(' ')}`);
    return;
  }
  throw new StackError(
    `Missing system packages: ${missing.join(' ')}\n` +
      `Install them (as root): apt-get update && apt-get install -y ${missing.join(' ')}\n` +
      `or point the scripts at an existing Supabase database with SUPABASE_DB_URL (see README).`,
  );
}

// ---------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------
export function portInUse(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(true));
    srv.once('listening', () => srv.close(() => resolve(false)));
    srv.listen(port, '127.0.0.1');
  });
}

export async function freePort(from) {
  for (let p = from; p < from + 200; p++) if (!(await portInUse(p))) return p;
  throw new StackError(`no free port from ${from}`);
}

// Where the project's cluster lives. In the repo when the server's OS user can
// reach it; otherwise (root, repo under a private directory such as a mktemp
// folder) in a per-repo folder under /var/tmp, recorded in .local-stack.
// PostgreSQL 17's cluster lives inside its root (the chrooted server reaches
// nothing else), one per checkout; a rebuilt root starts with a fresh cluster.
export function devDataDir() {
  if (inRoot) {
    const tag = createHash('sha1').update(repoRoot).digest('hex').slice(0, 10);
    return pgRoot.toHostPath(`/var/lib/chat-backend/local-stack-${tag}/data`);
  }
  const inRepo = path.join(stateDir, 'data');
  if (!isRoot()) return inRepo;
  const reachable = spawnSync('runuser', ['-u', 'postgres', '--', 'test', '-x', repoRoot]).status === 0;
  if (reachable) return inRepo;
  const tag = createHash('sha1').update(repoRoot).digest('hex').slice(0, 10);
  return path.join('/var/tmp', `chat-backend-local-stack-${tag}`, 'data');
}

function chownToServerUser(dir) {
  if (!isRoot()) return;
  if (inRoot) return rootCall(() => pgRoot.chownToRootServerUser(dir));
  const uid = Number(run('id', ['-u', 'postgres']).stdout.trim());
  const gid = Number(run('id', ['-g', 'postgres']).stdout.trim());
  chownSync(dir, uid, gid);
}

export function isInitialized(dataDir) {
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

export function initCluster(dataDir, { port, durable = true }) {
  mkdirSync(path.dirname(dataDir), { recursive: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chownToServerUser(path.dirname(dataDir));
  chownToServerUser(dataDir);
  const pwfile = path.join(path.dirname(dataDir), 'pwfile');
  writeFileSync(pwfile, `${local.password}\n`, { mode: 0o600 });
  chownToServerUser(pwfile);
  runServer('initdb', [
    '-D', serverPath(dataDir),
    '-U', 'supabase_admin',
    `--pwfile=${serverPath(pwfile)}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '--encoding=UTF8',
    '--locale=C.UTF-8',
    '--no-instructions',
  ]);
  rmSync(pwfile);
  const settings = {
    port,
    listen_addresses: "'127.0.0.1'",
    // TCP only: no socket directory to own or keep short.
    unix_socket_directories: "''",
    shared_preload_libraries: "'pg_cron,pg_stat_statements'",
    'cron.database_name': "'postgres'",
    // Jobs run in background workers: pg_cron's default (a libpq connection
    // to localhost) cannot log in here (TCP only, scram passwords), so every
    // job failed with "connection failed". Supabase's pg_cron runs them.
    'cron.use_background_workers': 'on',
    max_worker_processes: 32,
    // Supabase runs with logical WAL (Realtime); the publication wants it.
    wal_level: 'logical',
    max_connections: 200,
    max_wal_senders: 10,
    max_replication_slots: 10,
    log_min_messages: 'warning',
    log_destination: "'stderr'",
    logging_collector: 'off',
    timezone: "'UTC'",
  };
  // A test cluster is thrown away after the run: durability buys nothing there.
  // Benchmarks keep it, so write-heavy figures are not flattered.
  if (!durable) Object.assign(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  // In the root there is no /dev/shm tmpfs (and nothing is mounted): dynamic
  // shared memory (parallel query) uses System V segments, as initdb picks there.
  if (inRoot) settings.dynamic_shared_memory_type = 'sysv';
  const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n');
  writeFileSync(path.join(dataDir, 'postgresql.auto.conf'), `# written by local-stack/lib.mjs\n${conf}\n`);
  chownToServerUser(path.join(dataDir, 'postgresql.auto.conf'));
  ensureEncryptionKeys(dataDir);
}

// ---------------------------------------------------------------------------
// Encryption keys
// ---------------------------------------------------------------------------
// The keys private.encryption_key(name) reads (20261122010000_foundation.sql):
// on hosted Supabase, Vault secrets; without Vault, as here, the setting
// app.<name>. Every cluster (the project's and each throwaway one) gets its
// own random keys, written once into encryption-keys.conf in its data folder
// (owner-only, like the rest of it) and included from postgresql.conf. They
// never leave the machine and are never committed; they live as long as the
// cluster, so what was encrypted with them stays readable, and
// `npm run db:reset` deletes them together with the data they protect.
// The names are the ones the migrations ask for, so a new one needs no edit here.
export const encryptionKeyNames = (() => {
  const dir = path.join(repoRoot, 'supabase/migrations');
  const names = new Set();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
    for (const m of readFileSync(path.join(dir, file), 'utf8').matchAll(/private\.encryption_key\('([a-z0-9_]+)'\)/g)) names.add(m[1]);
  }
  return [...names].sort();
})();
export const encryptionKeysFile = 'encryption-keys.conf';

/** Adds any missing key to the cluster's key file; true when it wrote something (the server must reload). */
export function ensureEncryptionKeys(dataDir) {
  const file = path.join(dataDir, encryptionKeysFile);
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const missing = encryptionKeyNames.filter((name) => !new RegExp(`^\\s*app\\.${name}\\s*=`, 'm').test(existing));
  const mainConf = path.join(dataDir, 'postgresql.conf');
  const conf = readFileSync(mainConf, 'utf8');
  const include = `include_if_exists = '${encryptionKeysFile}'`;
  const included = conf.split('\n').includes(include);
  if (!missing.length && included) return false;
  if (missing.length) {
    const header = existing || '# This cluster\'s encryption keys (local-stack/lib.mjs): private.encryption_key() reads them.\n# Never copy them anywhere; they go with the cluster.\n';
    const lines = missing.map((name) => `app.${name} = '${randomBytes(32).toString('hex')}'`);
    writeFileSync(file, `${header}${header.endsWith('\n') ? '' : '\n'}${lines.join('\n')}\n`, { mode: 0o600 });
    chownToServerUser(file);
  }
  if (!included) writeFileSync(mainConf, `${conf}${conf.endsWith('\n') ? '' : '\n'}${include}\n`);
  return true;
}

export function clusterRunning(dataDir) {
  if (!isInitialized(dataDir)) return false;
  const [c, a, env] = serverCommand('pg_ctl', ['status', '-D', serverPath(dataDir)]);
  const r = spawnSync(c, a, { encoding: 'utf8', ...(inRoot ? { env } : {}) });
  return r.status === 0;
}

export function clusterPort(dataDir) {
  const conf = readFileSync(path.join(dataDir, 'postgresql.auto.conf'), 'utf8');
  return Number(/^port = (\d+)/m.exec(conf)[1]);
}

export function startCluster(dataDir, logFile) {
  mkdirSync(path.dirname(logFile), { recursive: true });
  if (isRoot() && !logFile.startsWith(path.dirname(dataDir))) {
    // the server user must be able to write its log
    writeFileSync(logFile, '', { flag: 'a' });
    chownToServerUser(logFile);
  }
  runServer('pg_ctl', ['start', '-w', '-t', '60', '-D', serverPath(dataDir), '-l', serverPath(logFile)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export function stopCluster(dataDir) {
  if (!clusterRunning(dataDir)) return false;
  runServer('pg_ctl', ['stop', '-w', '-m', 'fast', '-D', serverPath(dataDir)], { stdio: ['ignore', 'ignore', 'pipe'] });
  return true;
}

// For 17 inside the root's /tmp (removed with the root's other files; the
// throwaway runner deletes it after the run, and nothing is mounted there).
export function newThrowawayDir() {
  const base = inRoot
    ? rootCall(() => pgRoot.newRootTempDir('chat-backend-test-'))
    : mkdtempSync(path.join(os.tmpdir(), 'chat-backend-test-'));
  chownToServerUser(base);
  return path.join(base, 'data');
}

// ---------------------------------------------------------------------------
// SQL
// ---------------------------------------------------------------------------
// libpq environment for a postgres:// URL (for tools that take no URL).
export function pgEnv(url) {
  const u = new URL(url);
  const env = {
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username),
    PGPASSWORD: decodeURIComponent(u.password),
    PGDATABASE: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
  };
  const sslmode = u.searchParams.get('sslmode');
  if (sslmode) env.PGSSLMODE = sslmode;
  return env;
}

export function psql(url, args, opts = {}) {
  return run(pgBin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, ...args], opts);
}

export function autoExpose() {
  const toml = readFileSync(path.join(repoRoot, 'supabase/config.toml'), 'utf8');
  const m = /^\s*auto_expose_new_tables\s*=\s*(true|false)/m.exec(toml);
  return m ? m[1] === 'true' : true; // the CLI's own default when unset
}

export function applyBaseline(port, db = 'postgres') {
  // postgres creates Supabase's privileged extensions itself (pg_cron, postgis,
  // plpgsql_check), as supautils lets it on Supabase: see supautils.mjs.
  try {
    trustPrivilegedExtensions(pgShareDir);
  } catch (e) {
    throw new StackError(e.message);
  }
  psql(dbUrl(port, { user: 'supabase_admin', db }), [
    '-v', `auto_expose=${autoExpose()}`,
    '-f', path.join(repoRoot, 'local-stack/baseline.sql'),
  ]);
}

// ---------------------------------------------------------------------------
// The real Supabase CLI
// ---------------------------------------------------------------------------
// The real CLI, pinned in package.json. We depend on its binary package
// (@supabase/cli-linux-x64, what the `supabase` npm shim would load) directly:
// the registry reachable here serves only that platform's package, so `npm ci`
// cannot validate the shim's other optional platform packages. Elsewhere a
// `supabase` on PATH (same major version) is used.
const pinnedCli = path.join(repoRoot, 'node_modules/@supabase/cli-linux-x64/bin/supabase');

export function supabaseBin() {
  if (existsSync(pinnedCli)) return pinnedCli;
  if (commandExists('supabase')) return 'supabase';
  throw new StackError('The Supabase CLI is missing: run npm ci (Linux x64), or install the supabase CLI 3.x on PATH.');
}

export function supabase(args, opts = {}) {
  return run(supabaseBin(), args, {
    cwd: repoRoot,
    env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', SUPABASE_YES: '1' },
    ...opts,
  });
}

// Migrations (and the seed) go in exactly as users deploy: `supabase db push`,
// connected as postgres, which is not a superuser. `projectDir`: push another
// copy of the project (a folder holding supabase/), e.g. an earlier commit's.
export function dbPush(url, { seed = true, projectDir = repoRoot } = {}) {
  const args = ['db', 'push', `--remote=${url}`, '--yes', '--include-all'];
  if (seed) args.push('--include-seed');
  return supabase(args, { cwd: projectDir });
}

/**
 * Whether a committed generated file (the types, the schema reference) is
 * current: null when it equals `fresh`, else a short summary of the first
 * lines that differ, after their common prefix and suffix.
 */
export function generatedFileDrift(file, fresh) {
  const name = path.relative(repoRoot, file);
  let committed = '';
  try {
    committed = readFileSync(file, 'utf8');
  } catch {
    return `${name} is missing`;
  }
  if (fresh === committed) return null;
  const a = committed.split('\n');
  const b = fresh.split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
  const show = (lines, from, to, mark) => lines.slice(from, Math.min(to, from + 12)).map((l) => `    ${mark} ${l}`)
    .concat(to - from > 12 ? [`    ${mark} … ${to - from - 12} more line(s)`] : []);
  return `${name} differs from what the migrations produce, from line ${start + 1}:\n` +
    [...show(a, start, endA, '- committed:'), ...show(b, start, endB, '+ generated:')].join('\n');
}

export function waitForExit(child) {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

export { spawn, existsSync, statSync, readFileSync, writeFileSync, mkdirSync, rmSync };

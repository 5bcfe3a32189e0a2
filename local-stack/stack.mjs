#!/usr/bin/env node
// npm start | npm stop | npm run status — the Docker-free local stack.
//
//   start   install missing system packages (as root), create the project's
//           cluster on first run, start it on 54322, apply the Supabase
//           baseline, push migrations and seed with the Supabase CLI, start
//           the API gateway and functions runtime on 54321 (in the
//           background), print what `supabase status` prints. Reuses a
//           running stack.
//   stop    stop the API and the cluster (data is kept; `npm run db:reset` wipes it).
//   status  print the addresses and keys.
//   reset   stop, delete the cluster's data, start fresh.
//   packages  install the Debian packages the stack needs (as root), or say which.
//
// PG_MAJOR=17 (all commands) runs PostgreSQL 17 from the cached Debian trixie
// root instead of 15 (local-stack/pg-root.mjs): its cluster lives inside the
// root, apart from 15's, on the same port 54322, so one of them runs at a time.
// Stop and status act on the major in PG_MAJOR (15 when unset).
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import {
  StackError, applyBaseline, clusterPort, clusterRunning, dbPush, dbUrl, devDataDir, ensurePackages,
  existsSync, initCluster, isInitialized, local, log, mkdirSync, pgMajor, portInUse, psql, readFileSync, repoRoot,
  rmSync, spawn, startCluster, stateDir, stopCluster, writeFileSync,
} from './lib.mjs';

const dataDir = devDataDir();
const logFile = path.join(path.dirname(dataDir), 'postgres.log');

const apiFile = path.join(stateDir, 'api.json');
const apiLog = path.join(stateDir, 'api.log');
const apiUrl = `http://127.0.0.1:${local.apiPort}`;
const statusFile = path.join(stateDir, 'status.json');

// The major the last `npm start` ran, when it differs from PG_MAJOR: a hint for
// stop/status, which act on PG_MAJOR's cluster only.
function otherMajorHint() {
  try {
    const saved = JSON.parse(readFileSync(statusFile, 'utf8'));
    const major = saved.major ?? 15;
    if (major !== pgMajor) return `\n(the last npm start ran PostgreSQL ${major}: run PG_MAJOR=${major} npm ${process.argv[2] === 'stop' ? 'stop' : 'run status'})`;
  } catch { /* never started */ }
  return '';
}

// The API process we started, if it is still the one answering on the port
// (and, with requireReady, has its functions up).
async function runningApi({ requireReady = false } = {}) {
  let saved;
  try {
    saved = JSON.parse(readFileSync(apiFile, 'utf8'));
  } catch {
    return null;
  }
  try {
    process.kill(saved.pid, 0);
    const res = await fetch(`${apiUrl}/__local/status`, { signal: AbortSignal.timeout(2000) });
    const status = await res.json();
    return status.pid === saved.pid && (status.ready || !requireReady) ? saved : null;
  } catch {
    return null;
  }
}

async function startApi(dbPort) {
  if (await runningApi()) {
    log(`API gateway already running on ${apiUrl} (restart with npm stop && npm start to reload function code).`);
    // new or changed functions from this push: PostgREST reloads on this notification
    psql(dbUrl(dbPort), ['-c', `notify pgrst, 'reload schema'`], { stdio: ['ignore', 'ignore', 'pipe'] });
    return;
  }
  if (await portInUse(local.apiPort)) {
    throw new StackError(
      `Port ${local.apiPort} is taken by another process, so the API gateway cannot start.\n` +
        `Stop it (is \`supabase start\` running?), or use another port: LOCAL_STACK_API_PORT=<port> npm start.`,
    );
  }
  log('Starting the API gateway and the functions runtime ...');
  mkdirSync(stateDir, { recursive: true });
  const out = openSync(apiLog, 'a');
  const child = spawn(process.execPath, [
    path.join(repoRoot, 'local-stack/gateway/main.mjs'),
    '--db-url', `${dbUrl(dbPort)}?sslmode=disable`,
    '--port', String(local.apiPort),
  ], { detached: true, stdio: ['ignore', out, out], cwd: repoRoot });
  closeSync(out);
  child.unref();
  writeFileSync(apiFile, JSON.stringify({ pid: child.pid, port: local.apiPort }, null, 2));
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    if (child.exitCode !== null) break;
    if (await runningApi({ requireReady: true })) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = existsSync(apiLog) ? readFileSync(apiLog, 'utf8').split('\n').slice(-20).join('\n') : '';
  throw new StackError(`The API gateway did not start (log: ${apiLog}):\n${tail}`);
}

async function stopApi() {
  const api = await runningApi();
  rmSync(apiFile, { force: true });
  if (!api) return false;
  // Its process group: the gateway and the Deno processes it started.
  try {
    process.kill(-api.pid, 'SIGTERM');
  } catch {
    process.kill(api.pid, 'SIGTERM');
  }
  const t0 = Date.now();
  while (Date.now() - t0 < 10_000) {
    try {
      process.kill(api.pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

async function printStatus(port) {
  const api = await runningApi();
  const rows = [
    ['API URL', api ? apiUrl : `${apiUrl}  (not running: npm start)`],
    ['Functions URL', `${apiUrl}/functions/v1`],
    ['DB URL', dbUrl(port) ],
    ['Publishable key', local.publishableKey],
    ['Secret key', local.secretKey],
    ['anon key', local.anonKey],
    ['service_role key', local.serviceRoleKey],
    ['JWT secret', local.jwtSecret],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(`${rows.map(([k, v]) => `${k.padStart(width)}: ${v}`).join('\n')}\n`);
}

async function start() {
  ensurePackages();
  const port = local.dbPort;
  if (clusterRunning(dataDir)) {
    log(`Local database (PostgreSQL ${pgMajor}) already running (${dataDir}).`);
  } else {
    if (!isInitialized(dataDir)) {
      log(`Creating the local PostgreSQL ${pgMajor} cluster in ${dataDir} ...`);
      initCluster(dataDir, { port });
    }
    const wanted = clusterPort(dataDir);
    if (await portInUse(wanted)) {
      throw new StackError(
        `Port ${wanted} is taken by another process, so the local database cannot start.\n` +
          `Stop that process (is \`supabase start\` running? then use it: see README), or start on another port with\n` +
          `LOCAL_STACK_DB_PORT=<port> npm run db:reset.`,
      );
    }
    startCluster(dataDir, logFile);
  }
  const runningPort = clusterPort(dataDir);
  applyBaseline(runningPort);
  log('Applying migrations and seed with `supabase db push` ...');
  const push = dbPush(`${dbUrl(runningPort)}?sslmode=disable`);
  log(push.stderr.split('\n').filter((l) => /Applying|up to date|Seeding|Finished/.test(l)).join('\n'));
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(statusFile, JSON.stringify({ major: pgMajor, dataDir, port: runningPort }, null, 2));
  await startApi(runningPort);
  log('Started local development setup.\n');
  await printStatus(runningPort);
}

async function stop() {
  if (await stopApi()) log('Stopped the API gateway and functions runtime.');
  if (stopCluster(dataDir)) log(`Stopped the local database (PostgreSQL ${pgMajor}).`);
  else log(`The local PostgreSQL ${pgMajor} database is not running.${otherMajorHint()}`);
}

async function status() {
  if (!clusterRunning(dataDir)) {
    log(`The local stack (PostgreSQL ${pgMajor}) is not running: npm start${otherMajorHint()}`);
    process.exitCode = 1;
    return;
  }
  await printStatus(clusterPort(dataDir));
}

async function reset() {
  await stopApi();
  stopCluster(dataDir);
  if (existsSync(dataDir)) rmSync(path.dirname(dataDir) === stateDir ? dataDir : path.dirname(dataDir), { recursive: true, force: true });
  await start();
}

function packages() {
  ensurePackages();
  log('System packages for the local stack are installed.');
}

const commands = { start, stop, status, reset, packages };
const cmd = process.argv[2];
if (!commands[cmd]) {
  log(`usage: node local-stack/stack.mjs ${Object.keys(commands).join('|')}`);
  process.exit(2);
}
try {
  await commands[cmd]();
} catch (e) {
  if (e instanceof StackError) {
    log(`error: ${e.message}`);
    process.exit(1);
  }
  throw e;
}

#!/usr/bin/env node
// npm start | npm stop | npm run status — the Docker-free local stack.
//
//   start   install missing system packages (as root), create the project's
//           cluster on first run, start it on 54322, apply the Supabase
//           baseline, push migrations and seed with the Supabase CLI, start
//           the API gateway and functions runtime on 54321 (in the
//           background), print what `supabase status` prints. Reuses a
//           running stack.
//   stop    stop the API (the gateway and every function process it started,
//           also after a gateway crash) and the cluster (data is kept;
//           `npm run db:reset` wipes it).
//   status  print the addresses and keys, and whether the API is running,
//           degraded (a function process restarting) or gone; exits 1 unless
//           everything runs.
//   reset   stop, delete the cluster's data, start fresh.
//   packages  install the Debian packages the stack needs (as root), or say which.
//
// PG_MAJOR=17 (all commands) runs PostgreSQL 17 from the cached Debian trixie
// root instead of 15 (local-stack/pg-root.mjs): its cluster lives inside the
// root, apart from 15's, on the same port 54322, so one of them runs at a time.
// Stop and status act on the major in PG_MAJOR (15 when unset).
import path from 'node:path';
import { describeDown, inspectGateway, startGateway, stopGateway } from './gateway-process.mjs';
import {
  StackError, applyBaseline, clusterPort, clusterRunning, dbPush, dbUrl, devDataDir, encryptionKeysFile,
  ensureEncryptionKeys, ensurePackages, existsSync, initCluster, isInitialized, local, log, mkdirSync, pgMajor, portInUse, psql, readFileSync,
  rmSync, startCluster, stateDir, stopCluster, writeFileSync,
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

const gateway = { stateFile: apiFile, url: apiUrl };

// How long `npm start` gives a degraded gateway (a function process restarting)
// to repair itself before it restarts the gateway.
const repairWaitMs = 15_000;

// How often the local gateway calls the worker edge function (after the
// previous run returned); LOCAL_STACK_WORKER_EVERY_SECONDS=0 npm start turns
// it off. docs/platform.md "Workers".
const localWorkerEverySeconds = 5;

async function startApi(dbPort) {
  let found = await inspectGateway(gateway);
  const t0 = Date.now();
  while (found.state === 'degraded' && Date.now() - t0 < repairWaitMs) {
    await new Promise((r) => setTimeout(r, 250));
    found = await inspectGateway(gateway);
  }
  if (found.state === 'running') {
    log(`API gateway already running on ${apiUrl} (restart with npm stop && npm start to reload function code).`);
    // new or changed functions from this push: PostgREST reloads on this notification
    psql(dbUrl(dbPort), ['-c', `notify pgrst, 'reload schema'`], { stdio: ['ignore', 'ignore', 'pipe'] });
    return;
  }
  if (found.state !== 'stopped') {
    const why = found.state === 'degraded' ? `degraded, not listening: ${describeDown(found.status)}` : found.state;
    log(`The API gateway is not healthy (${why}): ending its ${found.processes.length} process(es) and starting it again ...`);
    await stopGateway(gateway);
  }
  if (await portInUse(local.apiPort)) {
    throw new StackError(
      `Port ${local.apiPort} is taken by another process, so the API gateway cannot start.\n` +
        `Stop it (is \`supabase start\` running?), or use another port: LOCAL_STACK_API_PORT=<port> npm start.`,
    );
  }
  log('Starting the API gateway and the functions runtime ...');
  // The worker on a schedule, as pg_cron does on hosted projects (which the
  // local stack cannot: no pg_net). The gateway inherits this environment.
  process.env.LOCAL_STACK_WORKER_EVERY_SECONDS ??= String(localWorkerEverySeconds);
  try {
    await startGateway({ ...gateway, logFile: apiLog, port: local.apiPort, dbUrl: `${dbUrl(dbPort)}?sslmode=disable` });
  } catch (e) {
    throw new StackError(e.message);
  }
}

// The API line of `npm run status`: what the gateway is doing, not what was last started.
function apiLine(found) {
  switch (found.state) {
    case 'running': return apiUrl;
    case 'degraded': return `${apiUrl}  (degraded: not listening: ${describeDown(found.status)}; restarting by itself, or npm start repairs it)`;
    case 'not answering': return `${apiUrl}  (not answering: its process ${found.saved.pid} is alive; npm stop && npm start)`;
    case 'crashed': return `${apiUrl}  (not running: the gateway ended, leaving ${found.processes.length} function process(es); npm stop ends them, npm start restarts)`;
    default: return `${apiUrl}  (not running: npm start)`;
  }
}

async function printStatus(port) {
  const found = await inspectGateway(gateway);
  const rows = [
    ['API URL', apiLine(found)],
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
  return found.state;
}

async function start() {
  ensurePackages();
  const port = local.dbPort;
  if (clusterRunning(dataDir)) {
    log(`Local database (PostgreSQL ${pgMajor}) already running (${dataDir}).`);
    // a cluster made before it had keys gets them now, without a restart
    if (ensureEncryptionKeys(dataDir)) {
      psql(dbUrl(clusterPort(dataDir), { user: 'supabase_admin' }), ['-c', 'select pg_reload_conf()'], { stdio: ['ignore', 'ignore', 'pipe'] });
      log(`Generated this cluster's encryption keys (${path.join(dataDir, encryptionKeysFile)}).`);
    }
  } else {
    if (!isInitialized(dataDir)) {
      log(`Creating the local PostgreSQL ${pgMajor} cluster in ${dataDir} ...`);
      initCluster(dataDir, { port });
    } else if (ensureEncryptionKeys(dataDir)) {
      log(`Generated this cluster's encryption keys (${path.join(dataDir, encryptionKeysFile)}).`);
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
  const ended = await stopGateway(gateway);
  if (ended) log(`Stopped the API gateway and functions runtime (${ended} process(es)).`);
  if (stopCluster(dataDir)) log(`Stopped the local database (PostgreSQL ${pgMajor}).`);
  else log(`The local PostgreSQL ${pgMajor} database is not running.${otherMajorHint()}`);
}

async function status() {
  if (!clusterRunning(dataDir)) {
    log(`The local stack (PostgreSQL ${pgMajor}) is not running: npm start${otherMajorHint()}`);
    process.exitCode = 1;
    return;
  }
  if ((await printStatus(clusterPort(dataDir))) !== 'running') process.exitCode = 1;
}

async function reset() {
  await stopGateway(gateway);
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

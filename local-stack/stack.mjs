#!/usr/bin/env node
// npm start | npm stop | npm run status — the Docker-free local stack.
//
//   start   install missing system packages (as root), create the project's
//           cluster on first run, start it on 54322, apply the Supabase
//           baseline, push migrations and seed with the Supabase CLI, print
//           what `supabase status` prints. Reuses a running stack.
//   stop    stop the cluster (data is kept; `npm run reset` wipes it).
//   status  print the addresses and keys.
//   reset   stop, delete the cluster's data, start fresh.
//   packages  install the Debian packages the stack needs (as root), or say which.
import path from 'node:path';
import {
  StackError, applyBaseline, clusterPort, clusterRunning, dbPush, dbUrl, devDataDir, ensurePackages,
  existsSync, initCluster, isInitialized, local, log, mkdirSync, portInUse, repoRoot, rmSync, startCluster,
  stateDir, stopCluster, writeFileSync,
} from './lib.mjs';

const dataDir = devDataDir();
const logFile = path.join(path.dirname(dataDir), 'postgres.log');

function printStatus(port) {
  const rows = [
    ['API URL', `http://127.0.0.1:${local.apiPort}  (RPC gateway not part of the local stack yet: see README)`],
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
    log(`Local database already running (${dataDir}).`);
  } else {
    if (!isInitialized(dataDir)) {
      log(`Creating the local cluster in ${dataDir} ...`);
      initCluster(dataDir, { port });
    }
    const wanted = clusterPort(dataDir);
    if (await portInUse(wanted)) {
      throw new StackError(
        `Port ${wanted} is taken by another process, so the local database cannot start.\n` +
          `Stop that process (is \`supabase start\` running? then use it: see README), or start on another port with\n` +
          `LOCAL_STACK_DB_PORT=<port> npm run reset.`,
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
  writeFileSync(path.join(stateDir, 'status.json'), JSON.stringify({ dataDir, port: runningPort }, null, 2));
  log('Started local development setup.\n');
  printStatus(runningPort);
}

function stop() {
  if (stopCluster(dataDir)) log('Stopped the local database.');
  else log('The local database is not running.');
}

function status() {
  if (!clusterRunning(dataDir)) {
    log('The local stack is not running: npm start');
    process.exitCode = 1;
    return;
  }
  printStatus(clusterPort(dataDir));
}

async function reset() {
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

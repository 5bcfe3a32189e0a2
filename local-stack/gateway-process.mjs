// The API gateway `npm start` runs in the background: one detached process,
// the leader of its own process group, and the Deno function processes it
// starts, which stay in that group. Its pid is kept in a state file so that
// stop and status find it; stop ends every process of the group that belongs
// to this checkout, including function processes a crashed gateway left behind.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readState(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Live processes of process group `pgid` started from this checkout (their
 * command line names a file in it: the gateway's main.mjs, a function's
 * index.ts, the pinned deno). The check keeps a reused group id from ever
 * pointing stop at someone else's processes.
 */
export function groupMembers(pgid) {
  const members = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    let cmdline;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // ended meanwhile
    }
    // after "pid (comm) ": state, ppid, pgrp, ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && cmdline.some((a) => a.startsWith(`${repoRoot}/`))) members.push(Number(name));
  }
  return members;
}

async function gatewayStatus(url, pid) {
  try {
    const res = await fetch(`${url}/__local/status`, { signal: AbortSignal.timeout(2000) });
    const status = await res.json();
    return status.pid === pid ? status : null;
  } catch {
    return null;
  }
}

/**
 * What the state file's gateway is doing: {state, saved, status, processes}.
 * state: 'stopped' (none recorded, or recorded and gone), 'running' (answers,
 * every function listening), 'degraded' (answers, some function is not
 * listening: restarting, see status.functions), 'not answering' (alive, no
 * answer), 'crashed' (the gateway is gone, processes it started remain).
 */
export async function inspectGateway({ stateFile, url }) {
  const saved = readState(stateFile);
  if (!saved) return { state: 'stopped', processes: [] };
  const processes = groupMembers(saved.pid);
  if (!processes.includes(saved.pid)) return { state: processes.length ? 'crashed' : 'stopped', saved, processes };
  const status = await gatewayStatus(url, saved.pid);
  if (!status) return { state: 'not answering', saved, processes };
  return { state: status.ready ? 'running' : 'degraded', saved, status, processes };
}

/** The functions of a degraded gateway that are not listening, as one line. */
export function describeDown(status) {
  return Object.entries(status?.functions ?? {})
    .filter(([, f]) => !f.ready)
    .map(([name, f]) => `${name} (restarted ${f.restarts} time${f.restarts === 1 ? '' : 's'})`)
    .join(', ');
}

/**
 * Ends the recorded gateway's process group (SIGTERM, then SIGKILL after
 * `graceMs`) and forgets it. Returns how many processes there were.
 */
export async function stopGateway({ stateFile, graceMs = 10_000 }) {
  const saved = readState(stateFile);
  if (!saved) return 0;
  const initial = groupMembers(saved.pid);
  const signal = (sig) => {
    for (const pid of groupMembers(saved.pid)) {
      try {
        process.kill(pid, sig);
      } catch { /* ended meanwhile */ }
    }
  };
  signal('SIGTERM');
  const t0 = Date.now();
  while (groupMembers(saved.pid).length && Date.now() - t0 < graceMs) await sleep(100);
  signal('SIGKILL');
  while (groupMembers(saved.pid).length && Date.now() - t0 < graceMs + 5000) await sleep(50);
  rmSync(stateFile, { force: true });
  return initial.length;
}

/**
 * Starts the gateway detached on `port` against `dbUrl`, records it in
 * `stateFile`, and waits until it answers with every function listening.
 * Throws with the log's tail if it does not.
 */
export async function startGateway({ stateFile, logFile, port, dbUrl, timeoutMs = 60_000 }) {
  mkdirSync(path.dirname(stateFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [
    path.join(repoRoot, 'local-stack/gateway/main.mjs'), '--db-url', dbUrl, '--port', String(port),
  ], { detached: true, stdio: ['ignore', out, out], cwd: repoRoot });
  closeSync(out);
  child.unref();
  writeFileSync(stateFile, JSON.stringify({ pid: child.pid, port }, null, 2));
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs && child.exitCode === null) {
    if ((await inspectGateway({ stateFile, url })).state === 'running') return { pid: child.pid, url };
    await sleep(100);
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '';
  await stopGateway({ stateFile, graceMs: 2000 });
  throw new Error(`The API gateway did not start (log: ${logFile}):\n${tail}`);
}

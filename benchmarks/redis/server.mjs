// A throwaway redis-server for benchmarks/redis.mjs: Debian's redis-server
// (installed here, for the benchmark only, when missing), on a free loopback
// port with its own temporary directory, stopped and removed at the end.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, log } from '../../local-stack/lib.mjs';
import { connect } from './resp.mjs';

const commandExists = (name) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

/**
 * Makes sure redis-server and redis-benchmark (Debian: redis-server, which
 * brings redis-tools) are on PATH: installs them as root with apt-get, as
 * local-stack/lib.mjs installs PostgreSQL, or says which command to run.
 */
export function ensureRedis() {
  if (commandExists('redis-server') && commandExists('redis-benchmark')) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !commandExists('apt-get')) {
    throw new Error('redis-server is missing; install it (as root): apt-get update && apt-get install -y redis-server');
  }
  log('Installing redis-server (Debian) for the benchmark ...');
  // RUNLEVEL=1: the package's init script does not start a system-wide server
  // (this benchmark starts its own, on a port of its own).
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'redis-server']]) {
    const r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed`);
  }
  if (!commandExists('redis-server') || !commandExists('redis-benchmark')) throw new Error('apt-get did not provide redis-server');
}

/** The redis-server version, e.g. `7.0.15`. */
export function redisVersion() {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout;
  return /v=(\S+)/.exec(out)?.[1] ?? 'unknown';
}

/**
 * Starts redis-server on a free loopback port. `persistence`: 'none'
 * (--save '' --appendonly no), 'everysec' or 'always' (AOF with that fsync
 * policy, no RDB snapshots). Returns {port, persistence, stop()}.
 */
export async function startRedis(persistence = 'none') {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  const port = await freePort(56379);
  const aof = persistence === 'none' ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', persistence];
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...aof,
    '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log'),
  ], { stdio: 'ignore' });
  let ready = false;
  for (let i = 0; i < 100 && !ready; i++) {
    if (child.exitCode !== null) break;
    try {
      const c = await connect(port);
      ready = (await c.send(['PING'])) === 'PONG';
      c.close();
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (!ready) {
    await stop();
    throw new Error(`redis-server (${persistence}) did not start`);
  }
  return { port, persistence, stop };
}

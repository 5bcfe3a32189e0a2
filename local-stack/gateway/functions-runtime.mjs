// The local functions runtime: real Deno (npm @deno/linux-x64-glibc, pinned),
// one process per folder of supabase/functions/, each running the folder's
// index.ts unchanged (its Deno.serve listens where DENO_SERVE_ADDRESS says),
// with the environment Supabase gives functions (§4.5 of
// ../shared/research/postgrest_supabase.md).
//
// Imports: each function's own deno.json (the file `supabase functions deploy`
// uploads with it; chosen by the CLI's rule, functionConfig below). Deploy
// resolves its npm: specifiers from the npm registry; here the same exact
// versions come from the repo's node_modules (`--node-modules-dir=manual`), so
// `npm start` works offline once `npm ci` has run. That both give the same
// package versions is checked by `npm test` (local-stack/deploy-check.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function denoBin(repoRoot) {
  const pinned = path.join(repoRoot, 'node_modules/@deno/linux-x64-glibc/deno');
  if (existsSync(pinned)) return pinned;
  if (spawnSync('sh', ['-c', 'command -v deno']).status === 0) return 'deno';
  throw new Error('Deno is missing: run npm ci (Linux x64), or install Deno 2.x on PATH.');
}

/** Function names: folders of supabase/functions/ with an index.ts, not starting with _ or . */
export function listFunctions(functionsDir) {
  if (!existsSync(functionsDir)) return [];
  return readdirSync(functionsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !/^[_.]/.test(d.name) && existsSync(path.join(functionsDir, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

function functionSection(configToml, name) {
  const section = new RegExp(`^\\[functions\\.${name.replace(/[-]/g, '\\-')}\\]\\s*$([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, 'm').exec(configToml);
  return section?.[1] ?? '';
}

function tomlString(section, key) {
  return new RegExp(`^\\s*${key}\\s*=\\s*"([^"]*)"`, 'm').exec(section)?.[1];
}

/** `[functions.<name>] verify_jwt` from supabase/config.toml; true when unset, as on Supabase. */
export function verifyJwtSettings(configToml, names) {
  const out = {};
  for (const name of names) {
    const m = /^\s*verify_jwt\s*=\s*(true|false)/m.exec(functionSection(configToml, name));
    out[name] = m ? m[1] === 'true' : true;
  }
  return out;
}

/**
 * The entrypoint and import map (deno.json) of a function, chosen as the
 * Supabase CLI 3.x does for `functions serve` and `functions deploy`
 * (pkg/config/config.go, internal/functions/deploy/deploy.go): `entrypoint` and
 * `import_map` from `[functions.<name>]` (paths relative to supabase/) when set,
 * else `<name>/index.ts` and the folder's own deno.json or deno.jsonc. Returns
 * absolute paths; importMap is null when the function has none.
 */
export function functionConfig(repoRoot, configToml, name) {
  const supabaseDir = path.join(repoRoot, 'supabase');
  const functionsDir = path.join(supabaseDir, 'functions');
  const section = functionSection(configToml, name);
  const entry = tomlString(section, 'entrypoint');
  const entrypoint = entry ? path.resolve(supabaseDir, entry) : path.join(functionsDir, name, 'index.ts');
  const map = tomlString(section, 'import_map');
  let importMap = map ? path.resolve(supabaseDir, map) : null;
  if (!importMap) {
    importMap = ['deno.json', 'deno.jsonc'].map((f) => path.join(path.dirname(entrypoint), f)).find((f) => existsSync(f)) ?? null;
  }
  return { name, entrypoint, importMap };
}

/**
 * The environment Supabase gives every function (hosted: SUPABASE_URL, the
 * legacy JWT keys, the new keys as JSON dicts, SUPABASE_JWKS, SUPABASE_DB_URL;
 * https://supabase.com/docs/guides/functions/secrets and /functions/auth).
 * SUPABASE_JWKS is built as the CLI builds it for `functions serve`
 * (pkg/config ResolveJWKS): the public signing keys plus, while the project
 * signs with the legacy secret, that secret as an `oct` key.
 */
export function supabaseFunctionEnv({ url, keys, dbUrl }) {
  const jwks = { keys: [{ kty: 'oct', k: Buffer.from(keys.jwtSecret).toString('base64url') }] };
  return {
    SUPABASE_URL: url,
    SUPABASE_ANON_KEY: keys.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: keys.serviceRoleKey,
    SUPABASE_DB_URL: dbUrl,
    SUPABASE_PUBLISHABLE_KEYS: JSON.stringify({ default: keys.publishableKey }),
    SUPABASE_SECRET_KEYS: JSON.stringify({ default: keys.secretKey }),
    SUPABASE_JWKS: JSON.stringify(jwks),
  };
}

// supabase/functions/.env (KEY=VALUE lines), as `supabase functions serve` loads it.
function dotenv(file) {
  if (!existsSync(file)) return {};
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** A port the OS has just handed out on loopback (free at that moment). */
export function ephemeralPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, name, timeoutMs = 30_000) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`function ${name} exited with ${child.exitCode} while starting`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`function ${name} did not start listening within ${timeoutMs} ms`);
}

/**
 * The local stand-in for the hosted worker schedule (pg_cron -> pg_net ->
 * /functions/v1/worker, 20261122050100_queues.sql): the local stack has no
 * pg_net, so the runtime calls the worker itself, as a service (the secret
 * key in `apikey`), every `everySeconds` after the previous run returned, so
 * runs never overlap. `npm start` turns it on (LOCAL_STACK_WORKER_EVERY_SECONDS,
 * local-stack/stack.mjs); `npm test` leaves it off, so tests decide when work runs.
 * Returns stop().
 */
export function scheduleWorker({ functions, secretKey, everySeconds, log = () => undefined }) {
  let timer = null;
  let stopped = false;
  let lastProblem = null;
  const report = (problem) => {
    // one line per change, not one per tick
    if (problem !== lastProblem) log(problem ? `[worker schedule] ${problem}` : '[worker schedule] the worker answers again');
    lastProblem = problem;
  };
  async function tick() {
    const entry = functions.get('worker');
    if (entry?.ready) {
      try {
        const res = await fetch(`http://127.0.0.1:${entry.port}/worker`, {
          method: 'POST',
          headers: { apikey: secretKey, 'content-type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(150_000),
        });
        const summary = await res.json().catch(() => null);
        report(res.ok ? null : `the worker answered ${res.status}: ${JSON.stringify(summary?.errors ?? summary)}`);
      } catch (e) {
        if (!stopped) report(`the worker could not be called: ${e.message}`);
      }
    }
    if (!stopped) timer = setTimeout(tick, everySeconds * 1000);
  }
  timer = setTimeout(tick, everySeconds * 1000);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** LOCAL_STACK_WORKER_EVERY_SECONDS: a positive number turns the local worker schedule on. */
function workerScheduleSeconds() {
  const v = Number(process.env.LOCAL_STACK_WORKER_EVERY_SECONDS);
  return Number.isFinite(v) && v > 0 ? v : null;
}

// Restart backoff of a function process that exits: doubling from the first
// delay to the cap, back to the first once a process has served for a while.
const restartDelay = { firstMs: 250, maxMs: 10_000, resetAfterMs: 30_000 };

function spawnFunction({ repoRoot, deno, toml, name, port, environment }) {
  const fn = functionConfig(repoRoot, toml, name);
  return spawn(
    deno,
    [
      'run', '--quiet', '--no-lock', '--allow-net', '--allow-env', '--allow-read', '--allow-sys',
      // npm: specifiers from node_modules (same versions as deploy; see the top of this file)
      '--node-modules-dir=manual',
      ...(fn.importMap ? ['--config', fn.importMap] : []),
      fn.entrypoint,
    ],
    // Not detached: the process stays in the gateway's process group, so
    // `npm stop` ends it with the gateway even after the gateway crashed.
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...environment, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` } },
  );
}

/**
 * Starts every function and supervises it: a process that exits is started
 * again with backoff, and its route answers 503 until it listens again.
 * `env` is what Supabase sets (SUPABASE_URL, keys, ...); `defaults` are local
 * values that supabase/functions/.env may override.
 * Returns {functions: Map(name -> {port, pid, ready, restarts}), stop()}.
 */
export async function startFunctions({ repoRoot, env, names: only, defaults = {}, log = () => undefined }) {
  const functionsDir = path.join(repoRoot, 'supabase/functions');
  const names = only ?? listFunctions(functionsDir);
  const toml = readFileSync(path.join(repoRoot, 'supabase/config.toml'), 'utf8');
  const deno = denoBin(repoRoot);
  const environment = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DENO_DIR: process.env.DENO_DIR ?? path.join(repoRoot, '.local-stack/deno'),
    DENO_NO_UPDATE_CHECK: '1',
    NO_COLOR: '1',
    ...defaults,
    ...dotenv(path.join(functionsDir, '.env')),
    ...env,
  };
  const children = new Set();
  const functions = new Map(names.map((name) => [name, { port: null, pid: null, ready: false, restarts: 0 }]));
  let stopping = false;
  // Last resort when the gateway exits without stop() (an uncaught error):
  // no function process outlives it.
  const killAll = () => { for (const c of children) c.kill('SIGKILL'); };
  process.on('exit', killAll);

  async function launch(name) {
    const entry = functions.get(name);
    const port = await ephemeralPort();
    const child = spawnFunction({ repoRoot, deno, toml, name, port, environment });
    children.add(child);
    Object.assign(entry, { port, pid: child.pid, ready: false, child });
    const prefix = (d) => d.toString().split('\n').filter(Boolean).map((l) => `[fn ${name}] ${l}`).join('\n');
    child.stdout.on('data', (d) => log(prefix(d)));
    child.stderr.on('data', (d) => log(prefix(d)));
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (!stopping && entry.child === child) scheduleRestart(name, signal ? `signal ${signal}` : `code ${code}`);
    });
    await waitForPort(port, child, name);
    Object.assign(entry, { ready: true, since: Date.now() });
  }

  function scheduleRestart(name, how) {
    const entry = functions.get(name);
    const servedLong = entry.since && Date.now() - entry.since > restartDelay.resetAfterMs;
    entry.delay = servedLong || !entry.delay ? restartDelay.firstMs : Math.min(entry.delay * 2, restartDelay.maxMs);
    entry.ready = false;
    entry.since = null;
    entry.restarts += 1;
    log(`[fn ${name}] exited (${how}); restarting in ${entry.delay} ms`);
    entry.timer = setTimeout(() => {
      if (stopping) return;
      // a failed start ends in an exit, which schedules the next attempt
      launch(name).catch((e) => log(`[fn ${name}] restart failed: ${e.message}`));
    }, entry.delay);
  }

  let stopSchedule = () => undefined;

  async function stop() {
    stopping = true;
    stopSchedule();
    for (const entry of functions.values()) clearTimeout(entry.timer);
    await Promise.all(
      [...children].map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', resolve);
            c.kill('SIGTERM');
            setTimeout(() => c.kill('SIGKILL'), 3000).unref();
          }),
      ),
    );
    process.off('exit', killAll);
  }

  try {
    await Promise.all(names.map((name) => launch(name)));
  } catch (e) {
    await stop();
    throw e;
  }
  const everySeconds = workerScheduleSeconds();
  const secretKey = JSON.parse(environment.SUPABASE_SECRET_KEYS ?? '{}').default;
  if (everySeconds && functions.has('worker') && secretKey) {
    stopSchedule = scheduleWorker({ functions, secretKey, everySeconds, log });
    log(`[worker schedule] calling the worker every ${everySeconds} s (LOCAL_STACK_WORKER_EVERY_SECONDS)`);
  }
  return { functions, stop };
}

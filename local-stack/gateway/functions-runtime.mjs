// The local functions runtime: real Deno (npm @deno/linux-x64-glibc, pinned),
// one process per folder of supabase/functions/, each running the folder's
// index.ts unchanged (its Deno.serve listens where DENO_SERVE_ADDRESS says),
// with the environment Supabase gives functions (§4.5 of
// ../shared/research/postgrest_supabase.md). Imports resolve through
// supabase/functions/deno.json (npm: specifiers, nodeModulesDir "manual").
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

/** `[functions.<name>] verify_jwt` from supabase/config.toml; true when unset, as on Supabase. */
export function verifyJwtSettings(configToml, names) {
  const out = {};
  for (const name of names) {
    const section = new RegExp(`^\\[functions\\.${name.replace(/[-]/g, '\\-')}\\]\\s*$([\\s\\S]*?)(?=^\\[|(?![\\s\\S]))`, 'm').exec(configToml);
    const m = section && /^\s*verify_jwt\s*=\s*(true|false)/m.exec(section[1]);
    out[name] = m ? m[1] === 'true' : true;
  }
  return out;
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

function freePort() {
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
 * Starts every function. `env` is what Supabase sets (SUPABASE_URL, keys, ...);
 * `defaults` are local values that supabase/functions/.env may override.
 * Returns {functions: Map(name -> {port}), stop()}.
 */
export async function startFunctions({ repoRoot, env, defaults = {}, log = () => undefined }) {
  const functionsDir = path.join(repoRoot, 'supabase/functions');
  const names = listFunctions(functionsDir);
  const deno = denoBin(repoRoot);
  const secrets = dotenv(path.join(functionsDir, '.env'));
  const children = [];
  const functions = new Map();
  try {
    await Promise.all(
      names.map(async (name) => {
        const port = await freePort();
        const child = spawn(
          deno,
          [
            'run', '--quiet', '--no-lock', '--allow-net', '--allow-env', '--allow-read', '--allow-sys',
            '--config', path.join(functionsDir, 'deno.json'),
            path.join(functionsDir, name, 'index.ts'),
          ],
          {
            cwd: repoRoot,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: {
              PATH: process.env.PATH,
              HOME: process.env.HOME,
              DENO_DIR: process.env.DENO_DIR ?? path.join(repoRoot, '.local-stack/deno'),
              DENO_NO_UPDATE_CHECK: '1',
              NO_COLOR: '1',
              ...defaults,
              ...secrets,
              ...env,
              DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
            },
          },
        );
        children.push(child);
        const prefix = (d) => d.toString().split('\n').filter(Boolean).map((l) => `[fn ${name}] ${l}`).join('\n');
        child.stdout.on('data', (d) => log(prefix(d)));
        child.stderr.on('data', (d) => log(prefix(d)));
        await waitForPort(port, child, name);
        functions.set(name, { port });
      }),
    );
  } catch (e) {
    for (const c of children) c.kill('SIGTERM');
    throw e;
  }
  return {
    functions,
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', resolve);
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
    },
  };
}

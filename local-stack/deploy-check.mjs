// `npm test`'s proof that every edge function deploys: for each function, the
// files `supabase functions deploy` would upload — its import map (deno.json)
// and every local module its entrypoint reaches, found by following Deno's own
// module graph (`deno info --json`), as the CLI walks imports
// (pkg/function/deploy.go WalkImportPaths) — are copied into an empty folder
// with no package.json or node_modules above it. There, with an empty
// DENO_DIR (npm: packages come from the npm registry, as the hosted bundler
// fetches them), the entry must pass `deno check`, its npm packages must be
// the versions node_modules has (what the local runtime runs), and it must
// start with the environment Supabase gives functions and answer a CORS
// preflight with 200. One pass/fail per function, plus one for the pins.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { denoBin, ephemeralPort, functionConfig, listFunctions, supabaseFunctionEnv } from './gateway/functions-runtime.mjs';

// Deno's network settings are passed through (proxies, DENO_CERT); the CA
// store defaults to Mozilla's plus the system's, so a registry reached through
// a TLS-inspecting proxy whose CA the OS trusts (as npm does with its cafile)
// works for Deno too.
const passThrough = ['HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'DENO_CERT', 'NPM_CONFIG_REGISTRY'];
const denoEnv = (denoDir) => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...Object.fromEntries(passThrough.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
  DENO_TLS_CA_STORE: process.env.DENO_TLS_CA_STORE ?? 'mozilla,system',
  DENO_DIR: denoDir,
  DENO_NO_UPDATE_CHECK: '1',
  NO_COLOR: '1',
});

function run(cmd, args, opts) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** The per-function deno.json files agree with each other and pin package.json's exact versions. */
export function checkPins(repoRoot, configs) {
  const problems = [];
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const deps = { ...pkg.devDependencies, ...pkg.dependencies };
  const texts = new Map();
  for (const c of configs) {
    if (!c.importMap) {
      problems.push(`${c.name}: no deno.json next to ${path.relative(repoRoot, c.entrypoint)} and no import_map in config.toml`);
      continue;
    }
    const text = readFileSync(c.importMap, 'utf8');
    texts.set(c.name, text);
    const imports = JSON.parse(text).imports ?? {};
    for (const [alias, target] of Object.entries(imports)) {
      const m = /^npm:((?:@[^/@]+\/)?[^/@]+)@([^/]+)(\/.*)?$/.exec(target);
      if (!m) {
        if (target.startsWith('npm:')) problems.push(`${c.name}: ${alias} -> ${target} has no exact version`);
        continue;
      }
      const [, name, version] = m;
      if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(version)) problems.push(`${c.name}: ${alias} -> ${target}: pin an exact version`);
      if (deps[name] !== version) problems.push(`${c.name}: ${name}@${version}, package.json has ${deps[name] ?? 'nothing'}`);
    }
  }
  const distinct = new Set(texts.values());
  if (distinct.size > 1) problems.push(`the functions' deno.json files differ (${[...texts.keys()].join(', ')}): keep them identical`);
  return problems;
}

/** Local files the entrypoint reaches (Deno's module graph), excluding npm packages. */
function localModules(deno, repoRoot, fn) {
  const args = ['info', '--json', '--node-modules-dir=manual', ...(fn.importMap ? ['--config', fn.importMap] : []), fn.entrypoint];
  const r = run(deno, args, { cwd: repoRoot, env: denoEnv(process.env.DENO_DIR ?? path.join(repoRoot, '.local-stack/deno')) });
  if (r.code !== 0) throw new Error(`deno info failed:\n${r.stderr}`);
  const graph = JSON.parse(r.stdout);
  const files = [];
  for (const m of graph.modules ?? []) {
    if (!m.specifier?.startsWith('file:')) continue;
    const file = fileURLToPath(m.specifier);
    if (file.split(path.sep).includes('node_modules')) continue; // an npm package: deploy fetches those
    if (m.error) throw new Error(`${m.specifier}: ${m.error}`);
    const rel = path.relative(repoRoot, file);
    if (rel.startsWith('..')) throw new Error(`${file} is outside the project: deploy cannot upload it`);
    files.push(rel);
  }
  return files;
}

/** name@version of every package in node_modules, from package-lock.json. */
function installedVersions(repoRoot) {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
  const out = new Map();
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    const i = key.lastIndexOf('node_modules/');
    if (i < 0 || !entry.version) continue;
    const name = key.slice(i + 'node_modules/'.length);
    if (!out.has(name)) out.set(name, new Set());
    out.get(name).add(entry.version);
  }
  return out;
}

function assertBareFolder(dir) {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    for (const f of ['package.json', 'node_modules', 'deno.json', 'deno.jsonc']) {
      if (existsSync(path.join(d, f))) throw new Error(`${path.join(d, f)} is above the deploy folder ${dir}: the check would not be clean (set TMPDIR elsewhere)`);
    }
    if (d === path.dirname(d)) return;
  }
}

/** Starts the deployed copy as the edge runtime would and sends it a CORS preflight. */
async function bootAndProbe(deno, dir, fn, rel, env, denoDir) {
  const port = await ephemeralPort();
  const child = spawn(
    deno,
    ['run', '--quiet', '--allow-net', '--allow-env', `--allow-read=${dir}`, '--allow-sys',
      ...(fn.importMap ? ['--config', path.join(dir, rel(fn.importMap))] : []), path.join(dir, rel(fn.entrypoint))],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...denoEnv(denoDir), ...env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` } },
  );
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    const t0 = Date.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} while starting:\n${out}`);
      if (Date.now() - t0 > 60_000) throw new Error(`did not listen within 60 s:\n${out}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/${fn.name}`, {
          method: 'OPTIONS',
          headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
        });
        if (res.status !== 200) throw Object.assign(new Error(`OPTIONS answered ${res.status}: ${await res.text()}`), { fatal: true });
        await res.arrayBuffer();
        return;
      } catch (e) {
        if (e.fatal) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  }
}

/**
 * Runs the check. `record(name, passed, failed, detail)` gets one call per
 * function and one for the pins; `keys` and `defaults` make the environment.
 */
export async function deployCheck({ repoRoot, keys, defaults = {}, record, log = () => undefined }) {
  const deno = denoBin(repoRoot);
  const toml = readFileSync(path.join(repoRoot, 'supabase/config.toml'), 'utf8');
  const configs = listFunctions(path.join(repoRoot, 'supabase/functions')).map((n) => functionConfig(repoRoot, toml, n));

  const pinProblems = checkPins(repoRoot, configs);
  for (const p of pinProblems) log(`  ${p}`);
  record('functions deno.json pins', pinProblems.length ? 0 : 1, pinProblems.length ? 1 : 0, pinProblems.join('\n'));

  const installed = installedVersions(repoRoot);
  // One cold cache for the run: the first function downloads from the npm
  // registry, the others reuse it, as one deploy's bundler would.
  const denoDir = mkdtempSync(path.join(os.tmpdir(), 'deploy-check-deno-dir-'));
  // Unreachable API: the function must boot and answer without it.
  const env = { ...defaults, ...supabaseFunctionEnv({ url: 'http://127.0.0.1:9', keys, dbUrl: 'postgresql://postgres@127.0.0.1:9/postgres' }) };
  try {
    for (const fn of configs) {
      const t0 = Date.now();
      const dir = mkdtempSync(path.join(os.tmpdir(), `deploy-check-${fn.name}-`));
      const rel = (abs) => path.relative(repoRoot, abs);
      try {
        assertBareFolder(dir);
        const files = localModules(deno, repoRoot, fn);
        if (fn.importMap) files.push(rel(fn.importMap));
        for (const f of files) {
          mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
          copyFileSync(path.join(repoRoot, f), path.join(dir, f));
        }
        log(`  ${fn.name}: uploads ${files.join(', ')}`);
        const cfg = fn.importMap ? ['--config', path.join(dir, rel(fn.importMap))] : [];
        const check = run(deno, ['check', '--quiet', ...cfg, path.join(dir, rel(fn.entrypoint))], { cwd: dir, env: denoEnv(denoDir) });
        if (check.code !== 0) throw new Error(`deno check failed:\n${check.stdout}${check.stderr}`);

        const info = run(deno, ['info', '--json', ...cfg, path.join(dir, rel(fn.entrypoint))], { cwd: dir, env: denoEnv(denoDir) });
        if (info.code !== 0) throw new Error(`deno info failed:\n${info.stderr}`);
        const packages = Object.values(JSON.parse(info.stdout).npmPackages ?? {});
        const drift = packages
          .filter((p) => !installed.get(p.name)?.has(p.version))
          .map((p) => `${p.name}@${p.version} (node_modules: ${[...(installed.get(p.name) ?? ['none'])].join(', ')})`);
        if (drift.length) {
          throw new Error(`deploy resolves npm packages the local runtime does not run:\n    ${drift.join('\n    ')}\n` +
            '  Align package.json/package-lock.json with what the registry resolves for the deno.json pins.');
        }
        await bootAndProbe(deno, dir, fn, rel, env, denoDir);
        log(`  ${fn.name}: deno check, ${packages.length} npm packages as in node_modules, boots and answers OPTIONS 200 (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
        record(`deploy ${fn.name}`, 1, 0);
      } catch (e) {
        log(`  ${fn.name}: ${e.message}`);
        record(`deploy ${fn.name}`, 0, 1, `  ${e.message}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(denoDir, { recursive: true, force: true });
  }
}

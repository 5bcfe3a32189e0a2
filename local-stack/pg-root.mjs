// PostgreSQL 17 for the local stack (PG_MAJOR=17): Debian bookworm, which these
// machines run, has no postgresql-17, but Debian trixie has it with the same
// extension packages. We build a minimal trixie root once with debootstrap from
// the host's own Debian mirror, install the server and extensions into it with
// apt, and cache it outside the checkout. The server binaries (initdb, pg_ctl,
// postgres) then run inside it with chroot as the root's `postgres` user; the
// data directories live inside the root; clients on the host (psql, pg_prove,
// the Supabase CLI) connect over TCP on 127.0.0.1 as they do for 15.
//
// No mounts are needed to run the server (initdb picks System V shared memory
// when the root has no /dev/shm tmpfs, and nothing reads /proc). debootstrap
// mounts /proc inside the root while it builds; every path that could hold a
// leftover mount is unmounted before it is renamed or removed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync,
  renameSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import path from 'node:path';

export class RootError extends Error {}

export const suite = 'trixie';
export const major = 17;
// What the root holds. Changing this list (or the recipe version) changes the
// cache key, so the next run builds a new root instead of reusing a stale one.
export const rootPackages = [
  `postgresql-${major}`,
  `postgresql-${major}-pgtap`,
  `postgresql-${major}-cron`,
  `postgresql-${major}-plpgsql-check`,
  `postgresql-${major}-postgis-3`,
];
const recipeVersion = 1;

export const cacheBase = process.env.PG_ROOT_CACHE ?? '/var/cache/chat-backend';
const key = createHash('sha256')
  .update(JSON.stringify({ suite, rootPackages, recipeVersion, variant: 'minbase', recommends: false }))
  .digest('hex')
  .slice(0, 12);
export const rootDir = path.join(cacheBase, `pg${major}-${suite}-${key}`);
const marker = path.join(rootDir, '.chat-backend-root.json');

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;
const log = (msg) => process.stderr.write(`${msg}\n`);

// Commands on the host: a fixed PATH, so a root's binaries never shadow them.
const hostPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.error) throw new RootError(`${cmd}: ${r.error.message}`);
  if (r.status !== 0 && !opts.allowFail) {
    throw new RootError(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
  }
  return r;
}

function which(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', env: { PATH: hostPath } });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------------------
// Paths: one place translates between the host's view and the root's view.
// ---------------------------------------------------------------------------
/** The path inside the root (as the chrooted server sees it) of a host path under rootDir. */
export function toRootPath(hostFile) {
  const rel = path.relative(rootDir, path.resolve(hostFile));
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new RootError(`${hostFile} is outside the PostgreSQL ${major} root ${rootDir}: the chrooted server cannot reach it`);
  }
  return `/${rel}`;
}

/** The host path of a path inside the root. */
export function toHostPath(rootFile) {
  return path.join(rootDir, rootFile);
}

export const binDir = `/usr/lib/postgresql/${major}/bin`; // inside the root
export const shareDir = toHostPath(`/usr/share/postgresql/${major}`); // on the host

// ---------------------------------------------------------------------------
// Mounts
// ---------------------------------------------------------------------------
function unescapeMount(p) {
  return p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

function mountsUnder(dir) {
  let text;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const prefix = `${path.resolve(dir)}/`;
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMount(l.split(' ')[4]))
    .filter((m) => m.startsWith(prefix) || m === path.resolve(dir));
}

/** Unmount everything mounted at or below dir, deepest first; throws if something stays mounted. */
export function unmountUnder(dir) {
  for (let pass = 0; pass < 3; pass++) {
    const mounts = mountsUnder(dir).sort((a, b) => b.length - a.length);
    if (mounts.length === 0) return;
    for (const m of mounts) {
      if (spawnSync('umount', [m], { env: { PATH: hostPath } }).status !== 0) {
        spawnSync('umount', ['-l', m], { env: { PATH: hostPath } });
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length) throw new RootError(`could not unmount ${left.join(', ')}: unmount them by hand before removing ${dir}`);
}

/** rm -rf that first makes sure no mount (a /proc left by an interrupted build) is below the path. */
export function removeTree(dir) {
  unmountUnder(dir);
  rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Building the root
// ---------------------------------------------------------------------------
/** The host's Debian mirror, read from its apt sources (DEBIAN_MIRROR overrides). */
export function debianMirror() {
  if (process.env.DEBIAN_MIRROR) return process.env.DEBIAN_MIRROR;
  const files = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (/\.(list|sources)$/.test(f)) files.push(path.join('/etc/apt/sources.list.d', f));
    }
  }
  const candidates = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim().split(/\s+/) ?? [];
        if (/^Enabled:\s*no/mi.test(stanza)) continue;
        if (!field('Types').includes('deb')) continue;
        for (const uri of field('URIs')) candidates.push({ uri, suites: field('Suites'), components: field('Components') });
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line);
        if (m) candidates.push({ uri: m[1], suites: [m[2]], components: m[3].trim().split(/\s+/) });
      }
    }
  }
  // The main archive: the host's own release (not -security, -updates,
  // -backports, nor a third-party repository) with the main component.
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const id = /^ID="?([^"\n]*)/m.exec(osRelease)?.[1];
  const codename = /^VERSION_CODENAME="?([^"\n]*)/m.exec(osRelease)?.[1];
  const main = id === 'debian' && codename
    ? candidates.find((c) => c.components.includes('main') && c.suites.includes(codename) && !/security/.test(c.uri))
    : undefined;
  if (!main) {
    throw new RootError(
      `Found no Debian mirror for this host's release in /etc/apt/sources.list* (${id ?? 'unknown'} ${codename ?? ''}):\n` +
        'set DEBIAN_MIRROR=<a Debian mirror URL ending in /debian> to build the PostgreSQL 17 root.',
    );
  }
  return main.uri.replace(/\/+$/, '');
}

export function rootReady() {
  return existsSync(marker);
}

function ensureDebootstrap() {
  if (which('debootstrap')) return;
  if (!which('apt-get')) throw new RootError('debootstrap is missing and there is no apt-get to install it.');
  log('Installing debootstrap (to build the PostgreSQL 17 root) ...');
  const env = { PATH: hostPath, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  sh('apt-get', ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  sh('apt-get', ['install', '-y', '-qq', 'debootstrap'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (!which('debootstrap')) throw new RootError('apt-get did not provide debootstrap');
}

const rootEnv = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  DEBIAN_FRONTEND: 'noninteractive',
  LC_ALL: 'C',
  LANG: 'C',
  HOME: '/root',
};

let chrootPath;
const chrootBin = () => (chrootPath ??= which('chroot') ?? '/usr/sbin/chroot');

function inTemp(dir, script, args = [], opts = {}) {
  return sh(chrootBin(), [dir, 'sh', '-ec', script, 'sh', ...args], { env: rootEnv, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
}

// Folders of an interrupted build (their builder is gone): never reused, only
// removed, unmounting first. Roots built for another package list are left
// alone (another checkout may use them); remove them by hand to reclaim space.
function removeStale() {
  if (!existsSync(cacheBase)) return;
  for (const name of readdirSync(cacheBase)) {
    const full = path.join(cacheBase, name);
    const tmp = /^\.build-(\d+)-/.exec(name);
    if (tmp) {
      let alive = false;
      try {
        process.kill(Number(tmp[1]), 0);
        alive = true;
      } catch { /* builder gone */ }
      if (!alive) {
        log(`Removing an interrupted PostgreSQL ${major} root build: ${full}`);
        try {
          removeTree(full);
        } catch (e) {
          // e.g. an orphaned debootstrap still writing there: build beside it
          log(`  could not remove it (${e.message.split('\n')[0]}); remove it by hand once nothing uses it`);
        }
      }
    }
  }
}

/** The PostgreSQL 17 root, built on first use (as root), then reused from the cache. */
export function ensureRoot() {
  if (rootReady()) {
    if (!isRoot()) {
      throw new RootError(
        `PostgreSQL ${major} runs inside a chroot (${rootDir}), which needs root: run as root (e.g. sudo -E npm run test:pg17),\n` +
          `or run the PostgreSQL 15 lane (npm test), or point SUPABASE_DB_URL at a PostgreSQL ${major} database.`,
      );
    }
    if (!existsSync(path.join(rootDir, binDir, 'postgres'))) {
      throw new RootError(`the PostgreSQL ${major} root ${rootDir} is damaged (no ${binDir}/postgres): delete it and run again to rebuild it`);
    }
    return rootDir;
  }
  if (!isRoot()) {
    throw new RootError(
      `PostgreSQL ${major} runs from a Debian ${suite} root (${rootDir}), which is not built yet,\n` +
        `and building it (debootstrap, apt-get, chroot) needs root. Run once as root:\n` +
        `  sudo PG_MAJOR=${major} node local-stack/stack.mjs packages\n` +
        `or run the PostgreSQL 15 lane (npm test), or point SUPABASE_DB_URL at a PostgreSQL ${major} database.`,
    );
  }
  for (const tool of ['chroot', 'umount']) {
    if (!which(tool)) throw new RootError(`${tool} is missing on the host`);
  }
  ensureDebootstrap();
  const mirror = debianMirror();
  mkdirSync(cacheBase, { recursive: true, mode: 0o755 });
  removeStale();
  const t0 = Date.now();
  const tmp = mkdtempSync(path.join(cacheBase, `.build-${process.pid}-`));
  chmodSync(tmp, 0o755); // it becomes the root's `/`: every user in it must traverse it
  const buildLog = path.join(cacheBase, `pg${major}-${suite}-build.log`);
  writeFileSync(buildLog, `building ${rootDir} from ${mirror}\n`);
  const logFd = openSync(buildLog, 'a');
  const quiet = { stdio: ['ignore', logFd, logFd] };
  const step = (what, fn) => {
    const s0 = Date.now();
    log(`  ${what} ...`);
    try {
      fn();
    } catch (e) {
      const tail = readFileSync(buildLog, 'utf8').trimEnd().split('\n').slice(-25).join('\n');
      throw new RootError(`building the PostgreSQL ${major} root failed at: ${what}\n${tail}\n(full log: ${buildLog})`);
    }
    log(`  ${what}: ${((Date.now() - s0) / 1000).toFixed(0)}s`);
  };
  // A signal while building: leave no mount behind (the next run removes the folder).
  const onSignal = (sig) => {
    try { unmountUnder(tmp); } catch { /* reported by the next run */ }
    process.kill(process.pid, sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`Building the PostgreSQL ${major} root (Debian ${suite} from the host's Debian mirror; once, then cached):`);
    step(`debootstrap --variant=minbase ${suite}`, () => {
      try {
        sh('debootstrap', ['--variant=minbase', suite, tmp, mirror], { env: { PATH: hostPath, LC_ALL: 'C' }, ...quiet });
      } finally {
        unmountUnder(tmp); // debootstrap mounts /proc in the target while it configures
      }
    });
    // No services start inside the root, and postgresql-common creates no
    // default cluster: clusters are made by initdb from local-stack/lib.mjs.
    writeFileSync(path.join(tmp, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    mkdirSync(path.join(tmp, 'etc/postgresql-common/createcluster.d'), { recursive: true });
    writeFileSync(path.join(tmp, 'etc/postgresql-common/createcluster.d/chat-backend.conf'), 'create_main_cluster = false\n');
    step(`apt-get install ${rootPackages.join(' ')}`, () => {
      inTemp(
        tmp,
        'apt-get update -q && apt-get install -y -q --no-install-recommends "$@" && apt-get clean && rm -rf /var/lib/apt/lists/*',
        rootPackages,
        quiet,
      );
      unmountUnder(tmp); // nothing mounts here, but check before calling the root complete
    });
    // Alternatives (postgis.control, ...) are absolute symlinks into the root's
    // /etc/alternatives; make them relative so the host sees the same files
    // through pgShareDir. The root is never upgraded in place, so nothing
    // needs the alternatives system afterwards.
    relativizeLinks(tmp, `/usr/share/postgresql/${major}`);
    relativizeLinks(tmp, `/usr/lib/postgresql/${major}`);
    verify(tmp);
    const versions = sh(chrootBin(), [tmp, 'dpkg-query', '-W', '-f', '${Package} ${Version}\\n', ...rootPackages], { env: rootEnv }).stdout;
    writeFileSync(
      path.join(tmp, '.chat-backend-root.json'),
      `${JSON.stringify({ suite, packages: versions.trim().split('\n'), builtSeconds: Math.round((Date.now() - t0) / 1000) }, null, 2)}\n`,
    );
    try {
      renameSync(tmp, rootDir);
    } catch (e) {
      // another run finished the same root first: use it
      if (!rootReady()) throw e;
      removeTree(tmp);
    }
  } catch (e) {
    try { removeTree(tmp); } catch { /* the next run removes it */ }
    throw e instanceof RootError ? e : new RootError(e.message);
  } finally {
    closeSync(logFd);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  log(`PostgreSQL ${major} root ready in ${((Date.now() - t0) / 1000).toFixed(0)}s: ${rootDir}`);
  return rootDir;
}

// Replace absolute symlinks below sub (a path inside the root) with relative
// links to their final target inside the root.
function relativizeLinks(dir, sub) {
  const walk = (rel) => {
    const host = path.join(dir, rel);
    if (!existsSync(host) && !isLink(host)) return;
    for (const ent of readdirSync(host, { withFileTypes: true })) {
      const entRel = path.posix.join(rel, ent.name);
      if (ent.isDirectory()) walk(entRel);
      else if (ent.isSymbolicLink()) {
        let target = entRel;
        for (let hops = 0; hops < 16 && isLink(path.join(dir, target)); hops++) {
          const t = readlinkSync(path.join(dir, target));
          target = path.posix.isAbsolute(t) ? t : path.posix.join(path.posix.dirname(target), t);
        }
        if (target === entRel || !existsSync(path.join(dir, target))) continue;
        const link = path.join(dir, entRel);
        rmSync(link);
        symlinkSync(path.posix.relative(path.posix.dirname(entRel), target), link);
      }
    }
  };
  walk(sub);
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function verify(dir) {
  const want = [
    `${binDir}/initdb`, `${binDir}/pg_ctl`, `${binDir}/postgres`,
    ...['pgtap', 'pg_cron', 'plpgsql_check', 'postgis', 'pg_stat_statements', 'pgcrypto', 'uuid-ossp']
      .map((e) => `/usr/share/postgresql/${major}/extension/${e}.control`),
  ];
  const missing = want.filter((f) => !existsSync(path.join(dir, f)));
  if (missing.length) throw new RootError(`the PostgreSQL ${major} root lacks ${missing.join(', ')}`);
  const locales = sh(chrootBin(), [dir, 'locale', '-a'], { env: rootEnv }).stdout.split('\n');
  if (!locales.some((l) => /^C\.utf-?8$/i.test(l))) throw new RootError(`the ${suite} root has no C.UTF-8 locale`);
  serverUser(dir);
}

// ---------------------------------------------------------------------------
// Running the server inside the root
// ---------------------------------------------------------------------------
/** uid and gid of the root's `postgres` user (created by postgresql-common). */
export function serverUser(dir = rootDir) {
  const line = readFileSync(path.join(dir, 'etc/passwd'), 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new RootError(`the root ${dir} has no postgres user`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export function chownToRootServerUser(hostFile) {
  const { uid, gid } = serverUser();
  chownSync(hostFile, uid, gid);
}

/** [cmd, args, env] running a PostgreSQL binary inside the root as its postgres user. */
export function serverCommand(name, args) {
  if (!isRoot()) {
    throw new RootError(`PostgreSQL ${major} runs inside a chroot (${rootDir}), which needs root: run as root (sudo -E).`);
  }
  const { uid, gid } = serverUser();
  return [
    chrootBin(),
    [`--userspec=${uid}:${gid}`, `--groups=${gid}`, rootDir, `${binDir}/${name}`, ...args],
    { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: '/var/lib/postgresql', TZ: 'UTC' },
  ];
}

/** A new folder for a throwaway cluster inside the root's /tmp (host path). */
export function newRootTempDir(prefix) {
  return mkdtempSync(path.join(rootDir, 'tmp', prefix));
}

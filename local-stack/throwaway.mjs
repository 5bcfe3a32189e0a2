// A fresh, throwaway cluster for one run (npm test, npm run gen:types, npm run
// bench): its own port and temp folder, the Supabase baseline, migrations and
// seed applied by the Supabase CLI. Cheap (about a second for initdb) and never
// touches the developer's stack on 54322. PG_MAJOR=17 runs it on PostgreSQL 17
// from the cached Debian trixie root (see local-stack/pg-root.mjs): the cluster's
// folder is then inside the root's /tmp, and destroy() removes it the same way.
import path from 'node:path';
import {
  StackError, applyBaseline, dbPush, dbUrl, ensurePackages, freePort, initCluster, log, newThrowawayDir, pgMajor, psql,
  rmSync, startCluster, stopCluster,
} from './lib.mjs';

// Another run (a parallel `npm test`) may take the port between our probe and
// the server's bind: start on a fresh port a few times before giving up.
async function startOnFreePort(durable) {
  let lastError;
  for (let attempt = 0; attempt < 5; attempt++) {
    const dataDir = newThrowawayDir();
    const port = await freePort(54330 + Math.floor(Math.random() * 500));
    try {
      initCluster(dataDir, { port, durable });
      startCluster(dataDir, path.join(path.dirname(dataDir), 'postgres.log'));
      return { dataDir, port };
    } catch (e) {
      lastError = e;
      try { stopCluster(dataDir); } catch { /* not started */ }
      rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  }
  throw new StackError(`could not start a throwaway cluster: ${lastError?.message}`);
}

export async function createThrowawayDatabase({ durable = false } = {}) {
  ensurePackages();
  const { dataDir, port } = await startOnFreePort(durable);
  const url = `${dbUrl(port)}?sslmode=disable`;
  const db = {
    url,
    port,
    dataDir,
    push: () => dbPush(url),
    destroy() {
      try {
        stopCluster(dataDir);
      } finally {
        if (!process.env.KEEP_TEST_DB) rmSync(path.dirname(dataDir), { recursive: true, force: true });
        else log(`KEEP_TEST_DB: cluster kept in ${dataDir} (port ${port})`);
      }
    },
  };
  try {
    const version = psql(dbUrl(port, { user: 'supabase_admin' }), ['-At', '-c', 'show server_version']).stdout.trim();
    if (!version.startsWith(`${pgMajor}.`)) {
      throw new StackError(`PG_MAJOR=${pgMajor} but the throwaway server reports PostgreSQL ${version}`);
    }
    log(`PostgreSQL ${version} on port ${port} (${dataDir})`);
    applyBaseline(port);
  } catch (e) {
    // the caller gets no handle to destroy: do not leave the cluster running
    db.destroy();
    throw e;
  }
  return db;
}

/**
 * The database a one-shot command works on, migrated and seeded: SUPABASE_DB_URL
 * when given (pushed to, never destroyed), else a fresh throwaway cluster.
 * `projectDir`: the folder whose supabase/ is pushed (the checkout unless given).
 * `destroy()` is always safe to call.
 */
export async function migratedDatabase({ durable = false, projectDir } = {}) {
  const given = process.env.SUPABASE_DB_URL;
  if (given) {
    dbPush(given, { projectDir });
    return { url: given, destroy() {} };
  }
  const db = await createThrowawayDatabase({ durable });
  try {
    dbPush(db.url, { projectDir });
  } catch (e) {
    db.destroy();
    throw e;
  }
  return db;
}

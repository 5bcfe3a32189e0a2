// A fresh, throwaway cluster for one run (npm test, npm run gen:types): its own
// port and temp folder, the Supabase baseline, migrations and seed applied by
// the Supabase CLI. Cheap (about a second for initdb) and never touches the
// developer's stack on 54322.
import path from 'node:path';
import {
  applyBaseline, dbPush, dbUrl, ensurePackages, freePort, initCluster, log, newThrowawayDir, rmSync,
  startCluster, stopCluster,
} from './lib.mjs';

export async function createThrowawayDatabase({ durable = false } = {}) {
  ensurePackages();
  const dataDir = newThrowawayDir();
  const port = await freePort(54330);
  initCluster(dataDir, { port, durable });
  startCluster(dataDir, path.join(path.dirname(dataDir), 'postgres.log'));
  applyBaseline(port);
  const url = `${dbUrl(port)}?sslmode=disable`;
  return {
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
}

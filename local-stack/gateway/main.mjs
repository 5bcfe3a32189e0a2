#!/usr/bin/env node
// Runs the local API gateway and the functions runtime in the foreground until
// SIGTERM/SIGINT. `npm start` starts it detached (local-stack/stack.mjs);
// `node local-stack/gateway/main.mjs --db-url <url> [--port 54321]` runs it by hand.
import { parseArgs } from 'node:util';
import { dbUrl, local, localFunctionDefaults, repoRoot } from '../lib.mjs';
import { startApi } from './server.mjs';

const { values } = parseArgs({
  options: {
    'db-url': { type: 'string' },
    port: { type: 'string' },
    'no-functions': { type: 'boolean' },
  },
});

const api = await startApi({
  dbUrl: values['db-url'] ?? `${dbUrl(local.dbPort)}?sslmode=disable`,
  port: Number(values.port ?? local.apiPort),
  repoRoot,
  keys: local,
  functions: !values['no-functions'],
  functionDefaults: localFunctionDefaults,
  log: (m) => process.stderr.write(`${new Date().toISOString()} ${m}\n`),
});
process.stderr.write(`${new Date().toISOString()} API gateway on ${api.url}; functions: ${api.functions.join(', ') || '(none)'}\n`);

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  await api.close().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

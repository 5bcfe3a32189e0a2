// Edge function entry: GET /functions/v1/health. The logic is in handler.ts (tested by vitest);
// every request is logged (_shared/request-log.ts), and the checks are kept in
// system_health_logs at most once a minute (_shared/health-log.ts).
import { serviceClient } from '../_shared/clients.ts';
import { loadEnv } from '../_shared/env.ts';
import { createHealthLog, healthLogWriter } from '../_shared/health-log.ts';
import { rpcWriter, withRequestLog } from '../_shared/request-log.ts';
import { createHealthHandler } from './handler.ts';

const env = loadEnv((name) => Deno.env.get(name));
const service = serviceClient(env);
const healthLog = createHealthLog({ write: healthLogWriter(service) });
const handler = createHealthHandler(env, { client: service, onReport: (report) => healthLog(report.checks) });

Deno.serve(withRequestLog(handler, { fn: 'health', writer: rpcWriter(service) }));

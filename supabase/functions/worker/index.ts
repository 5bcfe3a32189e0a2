// Edge function entry: POST /functions/v1/worker. The logic is in handler.ts and run.ts (tested by vitest);
// every request is logged (_shared/request-log.ts).
import { serviceClient } from '../_shared/clients.ts';
import { loadEnv } from '../_shared/env.ts';
import { rpcWriter, withRequestLog } from '../_shared/request-log.ts';
import { createWorkerHandler } from './handler.ts';

const env = loadEnv((name) => Deno.env.get(name));
const service = serviceClient(env);

Deno.serve(withRequestLog(createWorkerHandler(env, { client: service }), { fn: 'worker', writer: rpcWriter(service) }));

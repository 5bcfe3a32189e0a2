// Edge function entry: POST /functions/v1/rate-limit. Logic in handler.ts.
// The hot endpoint: its decisions (200, 429) are logged one in
// REQUEST_LOG_SAMPLE_EVERY (default 10); every other answer is logged
// (_shared/request-log.ts).
import { serviceClient } from '../_shared/clients.ts';
import { loadEnv } from '../_shared/env.ts';
import { rpcWriter, withRequestLog } from '../_shared/request-log.ts';
import { createRateLimitHandler } from './handler.ts';

const env = loadEnv((name) => Deno.env.get(name));
const sampleEvery = Number(env.vars.REQUEST_LOG_SAMPLE_EVERY ?? '10');

Deno.serve(withRequestLog(createRateLimitHandler(env), {
  fn: 'rate-limit',
  writer: rpcWriter(serviceClient(env)),
  sampled: [200, 429],
  sampleEvery: Number.isInteger(sampleEvery) && sampleEvery >= 1 ? sampleEvery : 10,
}));

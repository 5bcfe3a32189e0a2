// The rate-limit function with a Redis limiter, for benchmarks/redis.mjs
// only: supabase/functions/rate-limit/index.ts with one change, the limiter
// passed to createRateLimitHandler (request logging and everything else as
// the product runs it). BENCH_REDIS_PORT, BENCH_REDIS_LIMIT and
// BENCH_REDIS_WINDOW_SECONDS say where Redis is and what the rule is.
import { serviceClient } from '../../supabase/functions/_shared/clients.ts';
import { loadEnv } from '../../supabase/functions/_shared/env.ts';
import { rpcWriter, withRequestLog } from '../../supabase/functions/_shared/request-log.ts';
import { createRateLimitHandler } from '../../supabase/functions/rate-limit/handler.ts';
import { redisLimiter } from './limiter.ts';

const env = loadEnv((name) => Deno.env.get(name));
const sampleEvery = Number(env.vars.REQUEST_LOG_SAMPLE_EVERY ?? '10');
const limiter = await redisLimiter(Number(Deno.env.get('BENCH_REDIS_PORT')), {
  limit: Number(Deno.env.get('BENCH_REDIS_LIMIT') ?? '100'),
  windowSeconds: Number(Deno.env.get('BENCH_REDIS_WINDOW_SECONDS') ?? '60'),
});

Deno.serve(withRequestLog(createRateLimitHandler(env, { limiter }), {
  fn: 'rate-limit',
  writer: rpcWriter(serviceClient(env)),
  sampled: [200, 429],
  sampleEvery: Number.isInteger(sampleEvery) && sampleEvery >= 1 ? sampleEvery : 10,
}));

// Edge function entry: POST /functions/v1/rate-limit. Logic in handler.ts.
import { loadEnv } from '../_shared/env.ts';
import { createRateLimitHandler } from './handler.ts';

Deno.serve(createRateLimitHandler(loadEnv((name) => Deno.env.get(name))));

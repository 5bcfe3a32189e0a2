// Edge function entry: POST /functions/v1/worker. The logic is in handler.ts and run.ts (tested by vitest).
import { loadEnv } from '../_shared/env.ts';
import { createWorkerHandler } from './handler.ts';

Deno.serve(createWorkerHandler(loadEnv((name) => Deno.env.get(name))));

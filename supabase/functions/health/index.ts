// Edge function entry: GET /functions/v1/health. The logic is in handler.ts (tested by vitest).
import { loadEnv } from '../_shared/env.ts';
import { createHealthHandler } from './handler.ts';

Deno.serve(createHealthHandler(loadEnv((name) => Deno.env.get(name))));

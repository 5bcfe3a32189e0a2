// POST /functions/v1/worker: one run of the background worker (run.ts) over
// the job queues, the notification channels and the WhatsApp queue (the
// queue named whatsapp, run by the whatsapp/message handler). Called on a
// schedule: pg_cron through pg_net on hosted projects, the local stack's
// gateway locally (docs/platform.md "Workers").
//
// Only a service may run it (verify_jwt is off, supabase/config.toml): the
// secret key in `apikey`, or the legacy service_role JWT; 401 otherwise.
//
// The time budget: Supabase stops a function at its wall-clock limit (150 s
// on the Free plan, 400 s on paid plans; the request idle timeout is 150 s:
// https://supabase.com/docs/guides/functions/limits). A run claims new work
// for WORKER_BUDGET_MS (default 25 s, at most 120 s), then finishes what it
// holds; the rest waits for the next invocation.
import type { SupabaseClient } from '@supabase/supabase-js';
import { z } from 'zod';
import { createJwtVerifier, isServiceCaller } from '../_shared/auth.ts';
import { serviceClient } from '../_shared/clients.ts';
import type { FunctionEnv } from '../_shared/env.ts';
import { HttpError, json, serve, zodDetails } from '../_shared/errors.ts';
import { registry as defaultRegistry, type Registry } from './handlers/index.ts';
import { notificationChannels, runWorker, type RunSummary } from './run.ts';

export const maxBudgetMs = 120_000;
const defaultBudgetMs = 25_000;

/** The request body; every field optional (pg_cron sends {}). */
export const workerRequest = z
  .object({
    budget_ms: z.number().int().min(100).max(maxBudgetMs).optional(),
    batch: z.number().int().min(1).max(100).optional(),
    /** Only these queues ([] for none; tests and operators draining one queue). */
    queues: z.array(z.string().min(1).max(63)).max(50).optional(),
    /** Only these notification channels; [] for none. */
    channels: z.array(z.enum(notificationChannels)).max(4).optional(),
    /** Lease seconds per item (default: the budget plus a margin). */
    lease_seconds: z.number().int().min(2).max(3600).optional(),
  })
  .strict();

export interface WorkerDeps {
  client?: SupabaseClient;
  fetch?: typeof fetch;
  now?: () => Date;
  registry?: Registry;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

function budgetFromEnv(env: FunctionEnv): number {
  const v = Number(env.vars.WORKER_BUDGET_MS);
  return Number.isInteger(v) && v >= 100 ? Math.min(v, maxBudgetMs) : defaultBudgetMs;
}

async function readBody(req: Request): Promise<z.infer<typeof workerRequest>> {
  const text = await req.text();
  let body: unknown = {};
  try {
    if (text.trim()) body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_request', 'the body must be JSON (or empty)');
  }
  const parsed = workerRequest.safeParse(body);
  if (!parsed.success) throw new HttpError(400, 'invalid_request', 'invalid worker request', zodDetails(parsed.error.issues));
  return parsed.data;
}

/** Records the run as a metric (worker.run, ms): the health check reads the latest. */
async function recordRun(db: SupabaseClient, summary: RunSummary, log: WorkerDeps['log']) {
  const { error } = await db.rpc('record_metric', {
    p_service_name: 'worker',
    p_metric_type: 'latency',
    p_metric_name: 'worker.run',
    p_value: summary.duration_ms,
    p_unit: 'ms',
    p_tags: {
      outcome: summary.outcome, stopped: summary.stopped, worker_id: summary.worker_id,
      jobs: summary.jobs, notifications: summary.notifications, errors: summary.errors.slice(0, 5),
    },
  });
  if (error) log?.('could not record the run metric', { message: error.message });
}

export function createWorkerHandler(env: FunctionEnv, deps: WorkerDeps = {}) {
  const db = deps.client ?? serviceClient(env);
  const verify = createJwtVerifier(env.jwks);
  const log = deps.log ?? ((message, fields) => console.log(JSON.stringify({ fn: 'worker', message, ...fields })));
  const budgetMs = budgetFromEnv(env);

  return serve(async (req) => {
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'use POST', null, { Allow: 'POST, OPTIONS' });
    if (!(await isServiceCaller(req, env, verify))) {
      throw new HttpError(401, 'unauthorized', 'only a service may run the worker: send the secret key in the apikey header');
    }
    const body = await readBody(req);
    const summary = await runWorker(
      { db, env: (name) => env.vars[name], fetch: deps.fetch ?? fetch, now: deps.now ?? (() => new Date()), log },
      deps.registry ?? defaultRegistry,
      {
        workerId: `worker-${crypto.randomUUID().slice(0, 8)}`,
        budgetMs: body.budget_ms ?? budgetMs,
        batch: body.batch ?? 10,
        queues: body.queues,
        channels: body.channels,
        leaseSeconds: body.lease_seconds,
      },
    );
    await recordRun(db, summary, log);
    return json(summary, summary.outcome === 'error' ? 500 : 200);
  });
}

// GET /functions/v1/health (seed 001 "Health Checks"): one RPC,
// public.health_check(), timed. 200 when healthy or degraded, 503 when
// unhealthy; no secrets or error internals in the output.
//
// A public probe (verify_jwt = false): anyone gets the overall status and each
// check's status. The details (version, latest migration, failing cron job
// names, queue depth, cache figures, latencies, error messages) describe the
// system to an attacker, so only a service gets them: the secret key in
// `apikey` (or the legacy service_role JWT). Signed-in users, admins
// included, get the public view; operators use the secret key.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { HealthStatus } from '../../../shared/schemas/observability.ts';
import { createJwtVerifier, isServiceCaller } from '../_shared/auth.ts';
import { serviceClient } from '../_shared/clients.ts';
import type { FunctionEnv } from '../_shared/env.ts';
import { HttpError, json, serve } from '../_shared/errors.ts';

export type CheckStatus = 'ok' | 'degraded' | 'error';

export interface HealthReport {
  /** The contract's health vocabulary (shared/schemas/observability.ts), as record_health_check stores it. */
  status: HealthStatus;
  timestamp: string;
  version: string;
  checks: Record<string, { status: CheckStatus; latency_ms?: number; [k: string]: unknown }>;
}

/** What anyone may see: the overall status, when, and each check's status. */
export interface PublicHealthReport {
  status: HealthStatus;
  timestamp: string;
  checks: Record<string, { status: CheckStatus }>;
}

export function publicView(report: HealthReport): PublicHealthReport {
  const checks = Object.fromEntries(Object.entries(report.checks).map(([name, c]) => [name, { status: c.status }]));
  return { status: report.status, timestamp: report.timestamp, checks };
}

type Snapshot = Record<string, { status: CheckStatus; [k: string]: unknown }>;

export interface HealthDeps {
  client?: SupabaseClient;
  now?: () => Date;
  /** Told every report (index.ts: the system_health_logs history, _shared/health-log.ts); cannot change the answer. */
  onReport?: (report: HealthReport) => void;
}

export function createHealthHandler(env: FunctionEnv, deps: HealthDeps = {}) {
  const client = deps.client ?? serviceClient(env);
  const now = deps.now ?? (() => new Date());
  const verify = createJwtVerifier(env.jwks);

  return serve(async (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      throw new HttpError(405, 'method_not_allowed', 'use GET', null, { Allow: 'GET, HEAD, OPTIONS' });
    }
    const report = await measure();
    try {
      deps.onReport?.(report);
    } catch (e) {
      console.warn(`health: onReport failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const body = (await isServiceCaller(req, env, verify)) ? report : publicView(report);
    return json(body, report.status === 'unhealthy' ? 503 : 200);
  });

  async function measure(): Promise<HealthReport> {
    const t0 = performance.now();
    const { data, error, status } = await client.rpc('health_check');
    const latency_ms = Math.round((performance.now() - t0) * 10) / 10;

    const report: HealthReport = { status: 'healthy', timestamp: now().toISOString(), version: env.vars.APP_VERSION ?? 'unknown', checks: {} };
    if (error) {
      // The database (or the API in front of it) cannot answer: the one
      // critical failure. A missing function means the migrations are not applied.
      const missing = error.code === 'PGRST202' || error.code === '42883';
      report.status = 'unhealthy';
      report.checks.database = { status: missing ? 'ok' : 'error', latency_ms };
      if (missing) report.checks.migrations = { status: 'error', message: 'health_check() is missing: migrations not applied' };
      else report.checks.database.message = status === 0 ? 'unreachable' : `API answered ${status}`;
      return report;
    }

    const snapshot = data as Snapshot;
    for (const [name, check] of Object.entries(snapshot)) report.checks[name] = { ...check };
    report.checks.database = { ...report.checks.database, status: report.checks.database?.status ?? 'ok', latency_ms };
    const latest = snapshot.migrations?.latest;
    if (!env.vars.APP_VERSION && typeof latest === 'string') report.version = latest;

    const statuses = Object.values(report.checks).map((c) => c.status);
    if (report.checks.database.status === 'error') report.status = 'unhealthy';
    else if (statuses.some((s) => s !== 'ok')) report.status = 'degraded';
    return report;
  }
}

// The health function's history: each check of a health report becomes a
// system_health_logs row (record_health_check, service role), at most once a
// minute. Two guards: each instance tries at most once a minute (so a busy
// probe costs no extra RPCs), and record_health_check itself writes nothing
// when the component has a row from the last minute, which holds across
// every instance (it serialises writers of one component with an advisory
// lock). The write is background work, like the request log's.
import type { SupabaseClient } from '@supabase/supabase-js';

export const healthLogIntervalMs = 60_000;

/** A check as the health report carries it. */
export interface ReportedCheck {
  status: 'ok' | 'degraded' | 'error';
  latency_ms?: number;
  [key: string]: unknown;
}

/** One system_health_logs row, as record_health_check takes it. */
export interface HealthLogRow {
  component: string;
  status: 'healthy' | 'degraded' | 'unhealthy';
  latencyMs: number | null;
  details: Record<string, unknown>;
}

const stored = { ok: 'healthy', degraded: 'degraded', error: 'unhealthy' } as const;

/** The rows of a report's checks: the check's status in the table's vocabulary, its latency, the rest as details. */
export function healthLogRows(checks: Record<string, ReportedCheck>): HealthLogRow[] {
  return Object.entries(checks).map(([component, { status, latency_ms, ...details }]) => ({
    component,
    status: stored[status] ?? 'unhealthy',
    latencyMs: typeof latency_ms === 'number' && Number.isFinite(latency_ms) ? Math.max(0, Math.round(latency_ms)) : null,
    details,
  }));
}

export interface HealthLogOptions {
  write: (row: HealthLogRow) => Promise<void>;
  /** Where background work goes (default: EdgeRuntime.waitUntil, else fire-and-forget). */
  background?: (work: Promise<unknown>) => void;
  /** Milliseconds, for the per-instance interval (default Date.now). */
  now?: () => number;
  warn?: (message: string) => void;
}

function defaultBackground(work: Promise<unknown>): void {
  const runtime = (globalThis as { EdgeRuntime?: { waitUntil?: (p: Promise<unknown>) => void } }).EdgeRuntime;
  if (typeof runtime?.waitUntil === 'function') runtime.waitUntil(work);
}

/** A recorder to call with every health report; it writes at most once a minute per instance. */
export function createHealthLog(options: HealthLogOptions): (checks: Record<string, ReportedCheck>) => void {
  const background = options.background ?? defaultBackground;
  const now = options.now ?? (() => Date.now());
  const warn = options.warn ?? ((m: string) => console.warn(m));
  let lastAttempt = -Infinity;

  return (checks) => {
    const t = now();
    if (t - lastAttempt < healthLogIntervalMs) return;
    lastAttempt = t;
    const work = Promise.all(healthLogRows(checks).map((row) => options.write(row)))
      .catch((e) => warn(`health: health log failed: ${e instanceof Error ? e.message : String(e)}`));
    background(work);
  };
}

/** The writer: the service role's record_health_check. */
export function healthLogWriter(service: SupabaseClient): (row: HealthLogRow) => Promise<void> {
  return async (row) => {
    const { error } = await service.rpc('record_health_check', {
      p_component: row.component, p_status: row.status, p_latency_ms: row.latencyMs, p_details: row.details,
    });
    if (error) throw new Error(`record_health_check: ${error.message}`);
  };
}

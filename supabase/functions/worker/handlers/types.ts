// The contract between the worker (index.ts, handler.ts: claiming, leases,
// completion, retries, the time budget) and the work itself: one module per
// job type or notification channel under handlers/, each a payload schema and
// a function that does the work through a provider's real HTTP API.
import type { SupabaseClient } from '@supabase/supabase-js';
import type { z } from 'zod';

/** What a handler may use; nothing else reaches it. */
export interface WorkerContext {
  /** The service-role client (the worker runs as the service role). */
  db: SupabaseClient;
  /** The function's environment, read through this (tests pass their own). */
  env: (name: string) => string | undefined;
  /** fetch, so tests can count and fail requests; handlers never call the global one. */
  fetch: typeof fetch;
  /** The clock. */
  now: () => Date;
  /** Epoch milliseconds by which the handler must have returned (the run's time budget). */
  deadline: number;
  log: (message: string, fields?: Record<string, unknown>) => void;
}

/** A job as a handler sees it, its payload already parsed by the handler's schema. */
export interface JobInput<P> {
  id: number;
  type: string;
  payload: P;
  /** 1 on the first run. */
  attempt: number;
  /** The user the job acts for, when it has one. */
  userId: string | null;
  /** Stable across retries of this job: the provider idempotency key, or the key of a recorded "sent" state. */
  idempotencyKey: string;
}

export interface JobHandler<P = unknown> {
  type: string;
  payload: z.ZodType<P>;
  /** Does the work; the value is stored as the job's result. Throws a WorkerError to fail. */
  run(ctx: WorkerContext, job: JobInput<P>): Promise<unknown>;
}

/** A notification as a channel sender sees it (public.notifications, claimed). */
export interface NotificationInput {
  id: string;
  userId: string;
  channel: 'email' | 'sms' | 'push' | 'whatsapp' | 'in_app';
  title: string | null;
  body: string | null;
  data: Record<string, unknown>;
  attempt: number;
  idempotencyKey: string;
}

export interface ChannelSender {
  channel: NotificationInput['channel'];
  /** Sends one notification; returns the provider's id for it when there is one. */
  send(ctx: WorkerContext, notification: NotificationInput): Promise<{ providerId?: string }>;
}

/** A failure a handler reports: retryable ones go back with backoff, the rest fail the job now. */
export class WorkerError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly code = retryable ? 'provider_unavailable' : 'failed') {
    super(message);
  }
}

/** The provider answered 429/5xx, timed out or could not be reached: try again later. */
export const retryable = (message: string, code = 'provider_unavailable') => new WorkerError(message, true, code);

/** The input or the provider's 4xx says it will never work: fail without retrying. */
export const permanent = (message: string, code = 'failed') => new WorkerError(message, false, code);

/** A provider without configuration: a clear, non-retryable failure naming the variable. */
export const missingConfig = (variable: string) =>
  new WorkerError(`${variable} is not set: this provider is not configured`, false, 'not_configured');

/**
 * Reads a provider's required variable, or throws missingConfig. Handlers read
 * their configuration this way at run time, so an unconfigured provider fails
 * its jobs visibly instead of the worker failing to start.
 */
export function requireEnv(ctx: WorkerContext, variable: string): string {
  const v = ctx.env(variable);
  if (!v) throw missingConfig(variable);
  return v;
}

/**
 * fetch with the run's deadline and the worker's error classes: network
 * errors, timeouts, 429 and 5xx are retryable; other 4xx are permanent.
 */
export async function providerFetch(ctx: WorkerContext, url: string, init: RequestInit, provider: string): Promise<Response> {
  const remaining = ctx.deadline - Date.now();
  if (remaining <= 0) throw retryable(`${provider}: no time left in this run`, 'deadline');
  let res: Response;
  try {
    res = await ctx.fetch(url, { ...init, signal: AbortSignal.timeout(remaining) });
  } catch (e) {
    throw retryable(`${provider}: ${(e as Error).name === 'TimeoutError' ? 'timed out' : `unreachable (${(e as Error).message})`}`);
  }
  if (res.ok) return res;
  const text = (await res.text().catch(() => '')).slice(0, 500);
  if (res.status === 429 || res.status >= 500) throw retryable(`${provider} answered ${res.status}: ${text}`);
  throw permanent(`${provider} answered ${res.status}: ${text}`, 'provider_rejected');
}

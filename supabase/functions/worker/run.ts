// One run of the worker: claim due work under a lease, run each item's
// handler, record the outcome, and stop claiming when the time budget is
// nearly spent (the rest waits for the next invocation). The SQL decides
// everything about retries: backoff, dead letters, lease expiry.
//
// Leases and double sends: every item is leased past the moment its handler
// must return (the run's deadline, or the lease's end minus a safety margin
// when the lease is shorter), and providerFetch aborts a request at that
// moment. So no other worker can take an item while a request for it is in
// flight; a retry after an abort or a lost answer carries the same
// idempotency key (Resend dedupes on it).
import type { SupabaseClient } from '@supabase/supabase-js';
import type { Registry } from './handlers/index.ts';
import type { NotificationInput, WorkerContext } from './handlers/types.ts';
import { WorkerError, permanent, retryable } from './handlers/types.ts';

export const notificationChannels = ['email', 'sms', 'push', 'whatsapp'] as const;
export type ClaimableChannel = (typeof notificationChannels)[number];

export interface RunOptions {
  workerId: string;
  /** How long this run may claim new work, in ms. */
  budgetMs: number;
  /** Items claimed at once per queue or channel, run in parallel. */
  batch: number;
  /** Only these queues (default: every queue with due work). */
  queues?: string[];
  /** Only these channels (default: every claimable channel). */
  channels?: ClaimableChannel[];
  /** Lease length in seconds (default: the budget plus a margin, so a lease outlasts the run). */
  leaseSeconds?: number;
}

export interface Tally {
  completed: number;
  retrying: number;
  dead: number;
  lost_lease: number;
}

export interface RunSummary {
  worker_id: string;
  duration_ms: number;
  /** drained: nothing due was left; budget: the time budget stopped the run. */
  stopped: 'drained' | 'budget';
  outcome: 'ok' | 'failures' | 'error';
  jobs: Tally;
  notifications: Tally;
  errors: string[];
}

interface JobRow {
  id: number;
  job_type: string;
  payload: unknown;
  attempts: number;
  created_by: string | null;
  locked_until: string;
}

interface NotificationRow {
  id: string;
  user_id: string;
  channel: NotificationInput['channel'];
  title: string | null;
  body: string | null;
  data: Record<string, unknown> | null;
  attempts: number;
  next_attempt_at: string;
}

/** A request for a provider is aborted this long before the lease ends. */
const leaseSafetyMs = 1000;
/** Leases outlast the run's budget by this much (the RPCs after the last send). */
const leaseMarginSeconds = 10;

const emptyTally = (): Tally => ({ completed: 0, retrying: 0, dead: 0, lost_lease: 0 });

export function asWorkerError(e: unknown): WorkerError {
  if (e instanceof WorkerError) return e;
  // A bug or an unexpected answer: retried (bounded by the job's attempts), visible in its errors.
  return retryable(`unexpected error: ${(e as Error)?.message ?? String(e)}`, 'unexpected');
}

const describe = (e: WorkerError) => `${e.code}: ${e.message}`.slice(0, 2000);

export async function runWorker(base: Omit<WorkerContext, 'deadline'>, registry: Registry, opts: RunOptions): Promise<RunSummary> {
  const t0 = Date.now();
  const deadline = t0 + opts.budgetMs;
  // Stop claiming when less than this is left: a batch needs time to finish.
  const reserveMs = Math.min(2000, opts.budgetMs / 4);
  const hasTime = () => deadline - Date.now() > reserveMs;
  const db: SupabaseClient = base.db;
  const summary: RunSummary = {
    worker_id: opts.workerId, duration_ms: 0, stopped: 'drained', outcome: 'ok',
    jobs: emptyTally(), notifications: emptyTally(), errors: [],
  };

  const leaseSeconds = () => opts.leaseSeconds ?? Math.ceil((deadline - Date.now()) / 1000) + leaseMarginSeconds;
  /** The moment a handler must return: the run's deadline, or earlier when the lease ends first. */
  const itemDeadline = (claimedAt: number, lease: number, lockedUntil: string) =>
    Math.min(deadline, claimedAt + lease * 1000 - leaseSafetyMs, Date.parse(lockedUntil) - leaseSafetyMs);

  async function rpc<T>(fn: string, args: Record<string, unknown>): Promise<{ data: T | null; code?: string; message?: string }> {
    const { data, error } = await db.rpc(fn, args);
    return error ? { data: null, code: error.code, message: `${fn}: ${error.message}` } : { data: data as T };
  }

  // ---- jobs ---------------------------------------------------------------
  async function dueQueues(): Promise<string[]> {
    const { data, message } = await rpc<Array<{ queue: string; ready: number; lease_expired: number }>>('get_queue_metrics', {});
    if (message) throw new Error(message);
    return (data ?? [])
      .filter((q) => q.ready > 0 || q.lease_expired > 0)
      .map((q) => q.queue)
      .filter((q) => !opts.queues || opts.queues.includes(q));
  }

  async function settleJob(job: JobRow, fn: 'complete_job' | 'fail_job', args: Record<string, unknown>) {
    const { data, code, message } = await rpc<{ status: string }>(fn, { p_job_id: job.id, p_worker_id: opts.workerId, ...args });
    if (code === 'PT409') {
      summary.jobs.lost_lease += 1;
      base.log('job no longer leased to this worker', { job_id: job.id, message });
    } else if (message) {
      summary.errors.push(message);
    } else if (data?.status === 'completed') summary.jobs.completed += 1;
    else if (data?.status === 'queued') summary.jobs.retrying += 1;
    else summary.jobs.dead += 1;
  }

  async function runJob(job: JobRow, claimedAt: number, lease: number) {
    const fail = (e: WorkerError) => settleJob(job, 'fail_job', { p_error: describe(e), p_retryable: e.retryable });
    const handler = registry.jobs.get(job.job_type);
    if (!handler) return fail(permanent(`no handler for job type ${job.job_type}: the worker does not know it`, 'no_handler'));
    const parsed = handler.payload.safeParse(job.payload);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(payload)'}: ${i.message}`).join('; ');
      return fail(permanent(`invalid payload for ${job.job_type}: ${issues}`, 'invalid_payload'));
    }
    const ctx: WorkerContext = { ...base, deadline: itemDeadline(claimedAt, lease, job.locked_until) };
    let result: unknown;
    try {
      result = await handler.run(ctx, {
        id: job.id, type: job.job_type, payload: parsed.data, attempt: job.attempts, userId: job.created_by,
        idempotencyKey: `job-${job.id}`,
      });
    } catch (e) {
      const err = asWorkerError(e);
      base.log('job failed', { job_id: job.id, type: job.job_type, code: err.code, retryable: err.retryable });
      return fail(err);
    }
    return settleJob(job, 'complete_job', { p_result: result ?? null });
  }

  /** Claims and runs one batch of a queue; false when the queue had nothing due. */
  async function jobBatch(queue: string): Promise<boolean> {
    const claimedAt = Date.now();
    const lease = leaseSeconds();
    const { data, message } = await rpc<JobRow[]>('claim_jobs', {
      p_queue: queue, p_worker_id: opts.workerId, p_limit: opts.batch, p_lease_seconds: lease,
    });
    if (message) {
      summary.errors.push(message);
      return false;
    }
    await Promise.all((data ?? []).map((job) => runJob(job, claimedAt, lease)));
    return (data ?? []).length > 0;
  }

  // ---- notifications --------------------------------------------------------
  async function runNotification(n: NotificationRow, claimedAt: number, lease: number) {
    const record = async (args: Record<string, unknown>) => {
      const { data, message } = await rpc<{ status: string }>('record_notification_result', { p_notification_id: n.id, ...args });
      if (message) summary.errors.push(message);
      else if (data?.status === 'sent') summary.notifications.completed += 1;
      else if (data?.status === 'pending') summary.notifications.retrying += 1;
      else summary.notifications.dead += 1;
    };
    const sender = registry.channels.get(n.channel);
    if (!sender) {
      return record({ p_success: false, p_retryable: false, p_error: `no_handler: no sender for channel ${n.channel}` });
    }
    const ctx: WorkerContext = { ...base, deadline: itemDeadline(claimedAt, lease, n.next_attempt_at) };
    try {
      await sender.send(ctx, {
        id: n.id, userId: n.user_id, channel: n.channel, title: n.title, body: n.body, data: n.data ?? {},
        attempt: n.attempts, idempotencyKey: `notification-${n.id}`,
      });
    } catch (e) {
      const err = asWorkerError(e);
      base.log('notification failed', { notification_id: n.id, channel: n.channel, code: err.code });
      return record({ p_success: false, p_retryable: err.retryable, p_error: describe(err) });
    }
    return record({ p_success: true });
  }

  async function notificationBatch(channel: ClaimableChannel): Promise<boolean> {
    const claimedAt = Date.now();
    // claim_notifications takes 1 to 3600 s
    const lease = Math.min(3600, leaseSeconds());
    const { data, message } = await rpc<NotificationRow[]>('claim_notifications', {
      p_channel: channel, p_limit: opts.batch, p_lease_seconds: lease,
    });
    if (message) {
      summary.errors.push(message);
      return false;
    }
    await Promise.all((data ?? []).map((n) => runNotification(n, claimedAt, lease)));
    return (data ?? []).length > 0;
  }

  // ---- the run: round robin over queues, then channels, until drained or out of time
  async function roundRobin<K>(keys: K[], batch: (key: K) => Promise<boolean>) {
    let active = keys;
    while (active.length) {
      const next: K[] = [];
      for (const key of active) {
        if (!hasTime()) {
          summary.stopped = 'budget';
          return;
        }
        if (await batch(key)) next.push(key);
      }
      active = next;
    }
  }

  try {
    await roundRobin(await dueQueues(), jobBatch);
    await roundRobin([...(opts.channels ?? notificationChannels)], notificationBatch);
  } catch (e) {
    summary.errors.push((e as Error).message);
  }
  summary.duration_ms = Date.now() - t0;
  const failed = summary.jobs.dead + summary.jobs.retrying + summary.notifications.dead + summary.notifications.retrying;
  summary.outcome = summary.errors.length ? 'error' : failed ? 'failures' : 'ok';
  return summary;
}

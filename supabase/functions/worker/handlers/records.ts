// What the handlers record in the database so that a retry of a job whose
// lease expired mid-run does not repeat a side effect: the in-app
// notification a job created (found again by the job's idempotency key in its
// data) and the provider send of a notification (its sent_at, set the moment
// the provider accepted it).
import type { PostgrestError } from '@supabase/supabase-js';
import { permanent, retryable, type WorkerContext } from './types.ts';

/**
 * A database error as a worker failure: invalid input (22xxx), constraint
 * (23xxx), not found / conflict (PT4xx) and permission (42501) will not change
 * on a retry; anything else (connection, timeout, 5xx) may.
 */
export function dbFailure(what: string, error: PostgrestError): Error {
  const message = `${what}: ${error.message}${error.details ? ` (${error.details})` : ''}`;
  const code = error.code ?? '';
  const lasting = /^(22|23|PT4|42501)/.test(code);
  return lasting ? permanent(message, 'database_rejected') : retryable(message, 'database_unavailable');
}

export interface InAppNotification {
  userId: string;
  title: string;
  body: string;
  /** Stored with the job's idempotency key, which finds it again on a retry. */
  data: Record<string, unknown>;
}

export interface StoredNotification {
  id: string;
  data: Record<string, unknown>;
}

/** The in-app notification an earlier run of this job created, if any. */
export async function findJobNotification(ctx: WorkerContext, userId: string, idempotencyKey: string): Promise<StoredNotification | null> {
  const { data, error } = await ctx.db.from('notifications').select('id, data')
    .eq('user_id', userId).eq('channel', 'in_app').contains('data', { idempotency_key: idempotencyKey })
    .order('created_at').limit(1).maybeSingle();
  if (error) throw dbFailure('reading the job\'s notification', error);
  return data as StoredNotification | null;
}

/** Creates the job's in-app notification once: a retry finds the first one and returns it. */
export async function notifyInAppOnce(ctx: WorkerContext, idempotencyKey: string, n: InAppNotification): Promise<StoredNotification> {
  const existing = await findJobNotification(ctx, n.userId, idempotencyKey);
  if (existing) return existing;
  const { data, error } = await ctx.db.rpc('create_notification', {
    p_user_id: n.userId, p_channel: 'in_app', p_title: n.title, p_body: n.body,
    p_data: { ...n.data, idempotency_key: idempotencyKey },
  });
  if (error) throw dbFailure('creating the in-app notification', error);
  const row = data as { id: string; data: Record<string, unknown> };
  return { id: row.id, data: row.data };
}

/** True when an earlier attempt already handed this notification to its provider. */
export async function alreadySent(ctx: WorkerContext, notificationId: string): Promise<boolean> {
  const { data, error } = await ctx.db.from('notifications').select('sent_at').eq('id', notificationId).maybeSingle();
  if (error) throw dbFailure('reading the notification\'s sent state', error);
  return (data as { sent_at: string | null } | null)?.sent_at != null;
}

/**
 * Records that the provider accepted the notification, before the worker
 * records the result: if this run's lease runs out now, the next claim sees
 * sent_at and does not send again.
 */
export async function recordSent(ctx: WorkerContext, notificationId: string): Promise<void> {
  const { error } = await ctx.db.from('notifications').update({ sent_at: ctx.now().toISOString() })
    .eq('id', notificationId).is('sent_at', null);
  if (error) throw dbFailure('recording the notification as sent', error);
}

// The platform RPC contract (supabase/migrations/20261122050000_cache.sql, _queues.sql, _events.sql) as zod
// schemas: cache, job/message queue, event store. The rules mirror the SQL
// checks; tests/platform.test.ts checks the two agree on the main cases.
import { z } from 'zod';

const json: z.ZodType<unknown> = z.unknown().refine((v) => v !== undefined, 'a JSON value is required');
const jsonObject = z.record(z.string(), z.unknown());

// ---------------------------------------------------------------------------
// Cache (service role)
// ---------------------------------------------------------------------------

/** Seed 001's TTL classes, in seconds; `permanent` is no expiry (pass null). */
export const CacheTTL = {
  SHORT: 60,
  MEDIUM: 300,
  CHAT_CONTEXT: 600,
  ANALYTICS: 900,
  LONG: 3600,
  PERMANENT: null,
} as const;

export const cacheKey = z.string().min(1, 'invalid key: must be 1 to 512 characters').max(512, 'invalid key: must be 1 to 512 characters');
export const ttlSeconds = z
  .number()
  .int()
  .min(1, 'invalid ttl: p_ttl_seconds must be between 1 and 31536000 (a year), or null for no expiry')
  .max(31536000, 'invalid ttl: p_ttl_seconds must be between 1 and 31536000 (a year), or null for no expiry')
  .nullable();
export const cacheTag = z.string().min(1).max(200);

/** Arguments of `set_cache`. */
export const setCacheArgs = z
  .object({
    p_key: cacheKey,
    p_value: json,
    p_ttl_seconds: ttlSeconds.optional(),
    p_tags: z.array(cacheTag).max(32, 'invalid tags: at most 32 tags of 1 to 200 characters').optional(),
  })
  .strict();
export type SetCacheArgs = z.infer<typeof setCacheArgs>;

/** Arguments of `increment_cache` (seed 001 `cache.increment(key, ttl)`). */
export const incrementCacheArgs = z
  .object({ p_key: cacheKey, p_ttl_seconds: ttlSeconds.optional(), p_amount: z.number().int().optional() })
  .strict();

/** A row of `cache_stats`. */
export const cacheStats = z.object({
  live_entries: z.number(),
  stored_entries: z.number(),
  hits: z.number(),
  misses: z.number(),
  hit_rate: z.number().nullable(),
  total_bytes: z.number(),
});

// ---------------------------------------------------------------------------
// Job and message queue
// ---------------------------------------------------------------------------

export const queueName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.:/-]{0,62}$/, 'invalid queue name: 1 to 63 of a-z 0-9 _ . : / -, starting with a letter or digit');
export const jobType = z.string().regex(/^[a-z0-9][a-z0-9_.:/-]{0,99}$/, 'invalid job type: 1 to 100 of a-z 0-9 _ . : / -');
export const jobStatus = z.enum(['queued', 'active', 'completed', 'dead', 'cancelled']);
export type JobStatus = z.infer<typeof jobStatus>;

/** Seed 001's job types (Inngest events), as registered in private.job_types. */
export const JobTypes = {
  videoUploadCompleted: 'video/upload.completed',
  quizGenerationRequested: 'quiz/generation.requested',
  emailSend: 'email/send',
  analyticsDailyAggregate: 'analytics/daily.aggregate',
  membershipUpdated: 'membership/updated',
} as const;

/** The job types a signed-in user may schedule. */
export const userSchedulableJobTypes = [JobTypes.videoUploadCompleted, JobTypes.quizGenerationRequested] as const;

const priority = z.number().int().min(-1000).max(1000);
const maxAttempts = z.number().int().min(1).max(100);
const dedupeKey = z.string().min(1).max(300);

/** Arguments of `enqueue_job` (service role). */
export const enqueueJobArgs = z
  .object({
    p_queue: queueName,
    p_payload: jsonObject.optional(),
    p_job_type: jobType.optional(),
    p_job_name: z.string().max(200).optional(),
    p_run_at: z.string().optional(),
    p_delay_seconds: z.number().int().min(0).optional(),
    p_priority: priority.optional(),
    p_max_attempts: maxAttempts.optional(),
    p_dedupe_key: dedupeKey.optional(),
  })
  .strict()
  .refine((a) => a.p_delay_seconds === undefined || a.p_run_at === undefined, 'give p_run_at or p_delay_seconds, not both');
export type EnqueueJobArgs = z.infer<typeof enqueueJobArgs>;

/** Arguments of `schedule_job` (seed 004). Users: allowed types only, no priority or attempts. */
export const scheduleJobArgs = z
  .object({
    p_job_type: jobType,
    p_job_name: z.string().max(200).optional(),
    p_payload: jsonObject.optional(),
    p_run_at: z.string().optional(),
    p_priority: priority.optional(),
    p_dedupe_key: dedupeKey.optional(),
    p_max_attempts: maxAttempts.optional(),
  })
  .strict();
export type ScheduleJobArgs = z.infer<typeof scheduleJobArgs>;

/** Arguments of `claim_jobs` (workers, service role). */
export const claimJobsArgs = z
  .object({
    p_queue: queueName,
    p_worker_id: z.string().min(1).max(200),
    p_limit: z.number().int().min(1).max(1000).optional(),
    p_lease_seconds: z.number().int().min(1).max(86400).optional(),
  })
  .strict();

/** A row of `job_queue`, as every job RPC returns it. */
export const job = z.object({
  id: z.number(),
  queue_name: z.string(),
  job_type: z.string(),
  job_name: z.string().nullable(),
  payload: jsonObject,
  status: jobStatus,
  priority: z.number(),
  run_at: z.string(),
  attempts: z.number(),
  max_attempts: z.number(),
  dedupe_key: z.string().nullable(),
  locked_by: z.string().nullable(),
  locked_until: z.string().nullable(),
  last_error: z.string().nullable(),
  errors: z.array(z.object({ at: z.string(), attempt: z.number(), error: z.string() })),
  result: z.unknown().nullable(),
  created_by: z.string().nullable(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  updated_at: z.string(),
});
export type Job = z.infer<typeof job>;

/** One element of `get_queue_metrics()`. */
export const queueMetrics = z.object({
  queue: z.string(),
  ready: z.number(),
  scheduled: z.number(),
  retrying: z.number(),
  in_flight: z.number(),
  lease_expired: z.number(),
  dead: z.number(),
  completed: z.number(),
  cancelled: z.number(),
  oldest_ready_age_seconds: z.number(),
});

// ---------------------------------------------------------------------------
// Event store (service role)
// ---------------------------------------------------------------------------

/** Arguments of `append_event` (seed 004). */
export const appendEventArgs = z
  .object({
    p_aggregate_id: z.string().min(1).max(200),
    p_aggregate_type: z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/),
    p_event_type: z.string().min(1).max(200),
    p_payload: json,
    p_metadata: jsonObject.optional(),
    /** null: any; 0 or -1: the stream must be new; n: the stream must be at version n. */
    p_expected_version: z.number().int().min(-1).nullable().optional(),
    p_event_id: z.uuid().optional(),
    p_correlation_id: z.uuid().optional(),
    p_causation_id: z.uuid().optional(),
  })
  .strict();
export type AppendEventArgs = z.infer<typeof appendEventArgs>;

/** A row of `event_store`. */
export const storedEvent = z.object({
  global_position: z.number(),
  created_at: z.string(),
  transaction_order: z.number(),
  event_id: z.uuid(),
  aggregate_type: z.string(),
  aggregate_id: z.string(),
  version: z.number(),
  event_type: z.string(),
  payload: z.unknown(),
  metadata: jsonObject,
  correlation_id: z.uuid().nullable(),
  causation_id: z.uuid().nullable(),
  created_by: z.uuid().nullable(),
});
export type StoredEvent = z.infer<typeof storedEvent>;

/** A reader's position for `read_events`: the last event's (transaction_order, global_position). */
export interface EventCursor {
  p_after_transaction_order: number;
  p_after_position: number;
}
export const startOfEventLog: EventCursor = { p_after_transaction_order: 0, p_after_position: 0 };

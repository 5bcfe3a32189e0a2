// video/upload.completed: confirms the uploaded object is in Storage (the
// Storage API's object info, through the service client), returns what was
// processed as the job's result (bucket, path, size, content type, etag) and
// tells the owner in-app. Users enqueue this job themselves, so the object
// must be under their own folder (`<user id>/...`, the storage policies'
// layout): a job cannot be pointed at someone else's file.
import { z } from 'zod';
import { notifyInAppOnce } from './records.ts';
import { type JobHandler, type JobInput, permanent, retryable, type WorkerContext } from './types.ts';

export const videoPayload = z.object({
  bucket: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'a bucket id'),
  /** The object's path in the bucket: `<owner's user id>/...`. */
  path: z.string().min(1).max(1024).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'a relative path without ..'),
  /** The app's own id for the video, echoed in the result and the notification. */
  video_id: z.string().min(1).max(200).optional(),
  /** The owner when the service role enqueued it (a user's own job carries its creator). */
  user_id: z.uuid().optional(),
});
export type VideoPayload = z.infer<typeof videoPayload>;

export interface StoredObject {
  size: number | null;
  contentType: string | null;
  etag: string | null;
  lastModified: string | null;
}

function ownerOf(job: JobInput<VideoPayload>): string {
  const userId = job.userId ?? job.payload.user_id;
  if (!userId) throw permanent('video job without an owner: enqueue it as the user or set payload.user_id', 'invalid_payload');
  if (job.payload.path.split('/')[0] !== userId) {
    throw permanent(`object ${job.payload.path} is not in the owner's folder ${userId}/`, 'forbidden');
  }
  return userId;
}

/**
 * Storage answers a missing object or bucket with 404 and a body whose
 * statusCode is "404" (NoSuchKey, NoSuchBucket in supabase/storage's
 * src/internal/errors); deployments in its legacy error mode send HTTP 400
 * with that same body, so the body's statusCode decides too.
 */
function storageFailure(bucket: string, path: string, error: { message: string; status?: number; statusCode?: string }): Error {
  const status = error.status;
  if (status === 404 || error.statusCode === '404' || error.statusCode === 'NoSuchKey') {
    return permanent(`storage object ${bucket}/${path} does not exist (${error.message})`, 'not_found');
  }
  if (status === undefined || status === 429 || status >= 500) return retryable(`storage: ${error.message}`);
  return permanent(`storage answered ${status}: ${error.message}`, 'provider_rejected');
}

/**
 * The object's info from the Storage API (GET /object/info/<bucket>/<path>,
 * whose body supabase-js returns camel-cased: size, contentType, etag,
 * lastModified), within the run's deadline.
 */
async function objectInfo(ctx: WorkerContext, bucket: string, path: string): Promise<StoredObject> {
  const remaining = ctx.deadline - Date.now();
  if (remaining <= 0) throw retryable('storage: no time left in this run', 'deadline');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(retryable('storage: timed out')), remaining);
  });
  try {
    const { data, error } = await Promise.race([ctx.db.storage.from(bucket).info(path), timeout]);
    if (error) throw storageFailure(bucket, path, error as { message: string; status?: number; statusCode?: string });
    const info = data as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      size: typeof info.size === 'number' ? info.size : null,
      contentType: text(info.contentType),
      etag: text(info.etag),
      lastModified: text(info.lastModified),
    };
  } finally {
    clearTimeout(timer);
  }
}

export const videoHandler: JobHandler<VideoPayload> = {
  type: 'video/upload.completed',
  payload: videoPayload,
  async run(ctx, job) {
    const userId = ownerOf(job);
    const { bucket, path, video_id } = job.payload;
    const object = await objectInfo(ctx, bucket, path);
    const processed = {
      bucket, path, video_id: video_id ?? null, size: object.size, content_type: object.contentType,
      etag: object.etag, last_modified: object.lastModified, processed_at: ctx.now().toISOString(),
    };
    const notification = await notifyInAppOnce(ctx, job.idempotencyKey, {
      userId, title: 'Your video is ready', body: `${path.split('/').pop()} has been processed.`,
      data: { kind: 'video.processed', job_id: job.id, ...processed },
    });
    return { ...processed, notification_id: notification.id };
  },
};

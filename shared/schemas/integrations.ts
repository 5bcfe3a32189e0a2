// The integrations RPC contract (supabase/migrations/2026112207*_*.sql) as zod
// schemas: payments, notifications, places, user integrations, WhatsApp. The
// rules mirror the SQL checks; tests/integrations.test.ts proves both agree.
import { z } from 'zod';

// ---------------------------------------------------------------------------
// Payments
// ---------------------------------------------------------------------------
export const transactionType = z.enum(['credit', 'debit']);
export const transactionStatus = z.enum(['pending', 'processing', 'completed', 'failed', 'cancelled', 'refunded']);

/** ISO 4217 code, upper case. */
export const currency = z.string().regex(/^[A-Z]{3}$/, 'invalid p_currency: must be an ISO 4217 code such as USD');

/** Positive, below 10^16, at most 4 decimal places. */
export const amount = z
  .number()
  .positive('invalid p_amount: must be positive, below 10^16, with at most 4 decimal places')
  .lt(1e16, 'invalid p_amount: must be positive, below 10^16, with at most 4 decimal places')
  .refine(
    (n) => Math.abs(Math.round(n * 1e4) / 1e4 - n) < 1e-9,
    'invalid p_amount: must be positive, below 10^16, with at most 4 decimal places',
  );

export const idempotencyKey = z
  .string()
  // eslint-disable-next-line no-control-regex
  .regex(/^[^\u0000-\u001f\u007f]{1,255}$/u, 'invalid p_idempotency_key: 1 to 255 printable characters');

/** Arguments of `create_transaction` (seed 004 names). */
export const createTransactionArgs = z
  .object({
    /** Your own user id (the service role may pass anyone's). */
    p_user_id: z.uuid(),
    p_type: transactionType,
    p_amount: amount,
    p_currency: currency,
    /** Same key + same parameters = the same transaction; same key + other parameters = PT409. */
    p_idempotency_key: idempotencyKey.nullable().optional(),
  })
  .strict();

export type CreateTransactionArgs = z.infer<typeof createTransactionArgs>;

export const updateTransactionStatusArgs = z
  .object({ p_transaction_id: z.uuid(), p_new_status: transactionStatus })
  .strict();

/** A row of `public.transactions`. Numeric columns arrive as JSON numbers from PostgREST. */
export const transaction = z.object({
  id: z.uuid(),
  created_at: z.string(),
  user_id: z.uuid(),
  type: transactionType,
  amount: z.number(),
  currency: z.string(),
  status: transactionStatus,
  idempotency_key: z.string().nullable(),
  updated_at: z.string(),
  completed_at: z.string().nullable(),
});

export type Transaction = z.infer<typeof transaction>;

// ---------------------------------------------------------------------------
// Notifications
// ---------------------------------------------------------------------------
export const notificationChannel = z.enum(['in_app', 'push', 'email', 'sms', 'whatsapp']);

export const createNotificationArgs = z
  .object({
    p_user_id: z.uuid(),
    p_channel: notificationChannel,
    p_body: z.string().min(1, 'invalid p_body: 1 to 4000 characters').max(4000, 'invalid p_body: 1 to 4000 characters'),
    p_title: z.string().max(200, 'invalid p_title: at most 200 characters').nullable().optional(),
    p_data: z.record(z.string(), z.unknown()).optional(),
    p_priority: z.number().int().min(1, 'invalid p_priority: 1 to 10').max(10, 'invalid p_priority: 1 to 10').optional(),
    p_send_at: z.string().nullable().optional(),
    p_max_attempts: z.number().int().min(1).max(20).optional(),
  })
  .strict();

// ---------------------------------------------------------------------------
// Places
// ---------------------------------------------------------------------------
export const latitude = z.number().min(-90, 'invalid p_lat: must be between -90 and 90').max(90, 'invalid p_lat: must be between -90 and 90');
export const longitude = z
  .number()
  .min(-180, 'invalid p_lng: must be between -180 and 180')
  .max(180, 'invalid p_lng: must be between -180 and 180');

/** Arguments of `find_nearby_locations` (seed 004 names, plus an optional limit). */
export const findNearbyLocationsArgs = z
  .object({
    p_lat: latitude,
    p_lng: longitude,
    p_radius_meters: z
      .number()
      .gt(0, 'invalid p_radius_meters: must be above 0 and at most 50000')
      .max(50000, 'invalid p_radius_meters: must be above 0 and at most 50000'),
    p_limit: z.number().int().min(1).max(500).optional(),
  })
  .strict();

export const nearbyLocation = z.object({
  id: z.uuid(),
  name: z.string(),
  category: z.string(),
  address: z.string(),
  lat: z.number(),
  lng: z.number(),
  is_public: z.boolean(),
  distance_meters: z.number(),
});

// ---------------------------------------------------------------------------
// User integrations
// ---------------------------------------------------------------------------
export const apiKeyService = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,49}$/, "invalid p_service: 1 to 50 lowercase letters, digits, '_', '.' or '-'");

export const setUserApiKeyArgs = z
  .object({
    p_service: apiKeyService,
    p_api_key: z
      .string()
      .min(8, 'invalid p_api_key: 8 to 4096 characters without spaces')
      .max(4096, 'invalid p_api_key: 8 to 4096 characters without spaces')
      // eslint-disable-next-line no-control-regex
      .regex(/^[^\s\u0000-\u001f\u007f]+$/u, 'invalid p_api_key: 8 to 4096 characters without spaces'),
  })
  .strict();

/** What the owner sees of a key: never the key itself. */
export const userApiKey = z.object({
  user_id: z.uuid(),
  service: z.string(),
  key_hint: z.string(),
  last_used_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

// ---------------------------------------------------------------------------
// WhatsApp
// ---------------------------------------------------------------------------
/** E.164: '+', a non-zero digit, 7 to 15 digits in all. */
export const e164Phone = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'must be an E.164 number such as +250788123456');

export const enqueueWhatsappMessageArgs = z
  .object({
    p_recipient_phone: e164Phone,
    p_message_type: z.enum(['text', 'template', 'image', 'document', 'audio', 'video', 'location', 'interactive']),
    p_message_payload: z.record(z.string(), z.unknown()),
    p_priority: z.number().int().min(1).max(10).optional(),
  })
  .passthrough();

// POST /functions/v1/webhook: the payment provider's (Whop's) membership and
// payment events, signed with Standard Webhooks. The signature is checked on
// the raw body before anything is parsed; then one RPC stores the event in
// the inbox (once per webhook id) and applies it, in one transaction.
//
//   bad or missing signature, stale timestamp -> 401, nothing stored
//   malformed payload                         -> 400, nothing stored
//   new event                                 -> 200 {duplicate: false, outcome}
//   redelivery (same webhook-id)              -> 200 {duplicate: true}, no effect
import type { SupabaseClient } from '@supabase/supabase-js';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { z } from 'zod';
import { serviceClient } from '../_shared/clients.ts';
import type { FunctionEnv } from '../_shared/env.ts';
import { HttpError, fromPostgrest, json, serve, zodDetails } from '../_shared/errors.ts';

export const provider = 'whop';

// Current Whop (API v1) envelope {id, type, timestamp, data} and the legacy
// {action, data}; unknown event types are stored and acknowledged.
export const webhookPayload = z
  .object({
    type: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(200).optional(),
    timestamp: z.string().datetime({ offset: true }).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough()
  .refine((p) => p.type ?? p.action, { message: 'type (or legacy action) is required', path: ['type'] });

export interface IngestResult {
  event_id: number;
  duplicate: boolean;
  outcome: 'applied' | 'ignored' | 'stored';
  detail: string | null;
}

/** Secrets from WHOP_WEBHOOK_SECRET: several, space-separated, while rotating. */
function secretsFrom(value: string | undefined): Webhook[] {
  const list = (value ?? '').split(/\s+/).filter(Boolean);
  return list.map((s) => new Webhook(s));
}

export function createWebhookHandler(env: FunctionEnv, deps: { client?: SupabaseClient } = {}) {
  const client = deps.client ?? serviceClient(env);
  const verifiers = secretsFrom(env.vars.WHOP_WEBHOOK_SECRET);

  return serve(async (req) => {
    if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', 'use POST', null, { Allow: 'POST, OPTIONS' });
    if (!verifiers.length) throw new HttpError(500, 'not_configured', 'the webhook secret is not configured');

    const raw = await req.text();
    const headers = {
      'webhook-id': req.headers.get('webhook-id') ?? '',
      'webhook-timestamp': req.headers.get('webhook-timestamp') ?? '',
      'webhook-signature': req.headers.get('webhook-signature') ?? '',
    };
    if (!headers['webhook-id'] || !headers['webhook-timestamp'] || !headers['webhook-signature']) {
      throw new HttpError(401, 'invalid_signature', 'missing webhook-id, webhook-timestamp or webhook-signature header');
    }
    let verified = false;
    let reason = 'no matching signature';
    for (const v of verifiers) {
      try {
        v.verify(raw, headers); // HMAC-SHA256 over id.timestamp.body, 5-minute tolerance
        verified = true;
        break;
      } catch (e) {
        // verify() parses the body once the signature holds: a SyntaxError
        // means a correctly signed body that is not JSON (400 below).
        if (e instanceof SyntaxError) {
          verified = true;
          break;
        }
        if (!(e instanceof WebhookVerificationError)) throw e;
        reason = e.message;
      }
    }
    if (!verified) throw new HttpError(401, 'invalid_signature', `webhook verification failed: ${reason}`);

    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'invalid_payload', 'the body is not JSON');
    }
    const parsed = webhookPayload.safeParse(body);
    if (!parsed.success) throw new HttpError(400, 'invalid_payload', 'the payload is not a webhook event', zodDetails(parsed.error.issues));
    const event = parsed.data;
    const occurredAt = event.timestamp ?? new Date(Number(headers['webhook-timestamp']) * 1000).toISOString();

    const { data, error, status } = await client.rpc('ingest_webhook_event', {
      p_provider: provider,
      p_webhook_id: headers['webhook-id'],
      p_event_type: event.type ?? event.action,
      p_payload: body,
      p_occurred_at: occurredAt,
    });
    if (error) {
      if (status === 400) throw new HttpError(400, 'invalid_payload', error.message, error.details ?? null);
      throw fromPostgrest(error, status);
    }
    const result = data as IngestResult;
    return json({ received: true, ...result });
  });
}

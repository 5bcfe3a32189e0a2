// POST /functions/v1/webhook: the payment provider's (Whop's) membership and
// payment events, signed with Standard Webhooks. The signature is checked on
// the raw body before anything is parsed; then one RPC stores the event in
// the inbox (once per webhook id) and applies it, in one transaction.
//
//   bad or missing signature, stale timestamp -> 401, nothing stored
//   body over 256 KB                          -> 413, not verified
//   malformed but signed (headers, JSON, a field, an amount, a time)
//                                             -> 400, nothing stored
//   new event                                 -> 200 {duplicate: false, outcome}
//   redelivery (same webhook-id)              -> 200 {duplicate: true}, no effect
import type { SupabaseClient } from '@supabase/supabase-js';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { z } from 'zod';
import { serviceClient } from '../_shared/clients.ts';
import type { FunctionEnv } from '../_shared/env.ts';
import { HttpError, fromPostgrest, json, serve, zodDetails } from '../_shared/errors.ts';

export const provider = 'whop';

/** The largest body verified and stored (the SQL inbox refuses more, too). */
export const maxBodyBytes = 256 * 1024;
/** How deeply a payload may nest: deeper JSON is no provider's and would exhaust the database's parser. */
export const maxJsonDepth = 32;

// Standard Webhooks headers as the provider sends them. The library reads the
// timestamp with parseInt, so "1700000000junk" verifies; the handler needs
// the whole header to be the number it signed.
const webhookIdPattern = /^[\x21-\x7e]{1,200}$/;
const timestampPattern = /^[0-9]{1,12}$/;

// Current Whop (API v1) envelope {id, type, timestamp, data} and the legacy
// {action, data}; unknown event types are stored and acknowledged.
export const webhookPayload = z
  .object({
    type: z.string().min(1).max(200).optional(),
    action: z.string().min(1).max(200).optional(),
    timestamp: z.string().max(40).datetime({ offset: true }).optional(),
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

/**
 * What makes a parsed payload unfit to pass on, or null: nesting deeper than
 * maxJsonDepth, or a number JSON.parse could not hold (1e400 parses to
 * Infinity, which the RPC call would send on as null). Iterative: no
 * recursion on hostile input.
 */
export function payloadProblem(value: unknown): string | null {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return 'a number in the payload is out of range';
    if (v === null || typeof v !== 'object') continue;
    if (depth > maxJsonDepth) return `the payload nests deeper than ${maxJsonDepth} levels`;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return null;
}

const malformed = (message: string, details: unknown = null) => new HttpError(400, 'invalid_payload', message, details);

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

    const declared = Number(req.headers.get('content-length') ?? 0);
    if (declared > maxBodyBytes) throw new HttpError(413, 'payload_too_large', `the body is over ${maxBodyBytes} bytes`);
    const raw = await req.text();
    if (new TextEncoder().encode(raw).length > maxBodyBytes) {
      throw new HttpError(413, 'payload_too_large', `the body is over ${maxBodyBytes} bytes`);
    }
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

    // Signed from here on: whatever is wrong now is the provider's malformed input, a 400.
    if (!timestampPattern.test(headers['webhook-timestamp'])) {
      throw malformed('webhook-timestamp must be whole seconds since 1970 (digits only)');
    }
    if (!webhookIdPattern.test(headers['webhook-id'])) {
      throw malformed('webhook-id must be 1 to 200 printable ASCII characters');
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw malformed('the body is not JSON');
    }
    const problem = payloadProblem(body);
    if (problem) throw malformed(problem);
    const parsed = webhookPayload.safeParse(body);
    if (!parsed.success) throw malformed('the payload is not a webhook event', zodDetails(parsed.error.issues));
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
      // 22023 and the other data errors (a time PostgreSQL cannot read, a check) are 400 from PostgREST
      if (status === 400) throw malformed(error.message, error.details ?? null);
      throw fromPostgrest(error, status);
    }
    const result = data as IngestResult;
    return json({ received: true, ...result });
  });
}

// The sms channel through Twilio's Messages API. The recipient is the
// notification's data.phone (E.164): the schema keeps no phone number for
// users (profiles has none, and auth.users.phone is not reachable through the
// API), so whoever creates an sms notification names the number.
//
// Sent once: sent_at, recorded as soon as Twilio accepts the message, stops a
// later claim from sending at all. The request also carries the
// notification's idempotency key as I-Twilio-Idempotency-Token, for the
// window this cannot close (Twilio accepted, the answer was lost): the header
// Twilio puts on its own webhooks, which clients send on creates for Twilio
// to deduplicate; the Messages API reference does not promise that it does.
import { z } from 'zod';
import { alreadySent, recordSent } from './records.ts';
import { type ChannelSender, permanent, providerFetch, requireEnv, type WorkerContext } from './types.ts';

export const smsData = z.object({
  phone: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 number such as +250788123456'),
});
export type SmsData = z.infer<typeof smsData>;

const defaultApiUrl = 'https://api.twilio.com';
/** Twilio's limit for one message's body. */
export const maxSmsLength = 1600;

function smsText(title: string | null, body: string | null): string {
  const text = [title, body].filter((s): s is string => !!s).join('\n');
  if (!text) throw permanent('sms notification without a title or body', 'invalid_payload');
  return text.length > maxSmsLength ? `${text.slice(0, maxSmsLength - 1)}…` : text;
}

function basicAuth(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

async function recordSentQuietly(ctx: WorkerContext, id: string): Promise<void> {
  // Twilio has the message: failing the notification now would only retry a
  // send that already happened.
  await recordSent(ctx, id).catch((e) => ctx.log('sms: could not record sent_at', { notification_id: id, error: String(e) }));
}

export const smsSender: ChannelSender = {
  channel: 'sms',
  async send(ctx, n) {
    const data = smsData.safeParse(n.data);
    if (!data.success) throw permanent(`sms notification without a valid data.phone: ${data.error.issues[0]?.message}`, 'invalid_payload');
    const sid = requireEnv(ctx, 'TWILIO_ACCOUNT_SID');
    const token = requireEnv(ctx, 'TWILIO_AUTH_TOKEN');
    const from = requireEnv(ctx, 'TWILIO_FROM_NUMBER');
    if (await alreadySent(ctx, n.id)) return {};

    const base = (ctx.env('TWILIO_API_URL') || defaultApiUrl).replace(/\/+$/, '');
    const res = await providerFetch(ctx, `${base}/2010-04-01/Accounts/${encodeURIComponent(sid)}/Messages.json`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(sid, token),
        'content-type': 'application/x-www-form-urlencoded',
        'i-twilio-idempotency-token': n.idempotencyKey,
      },
      body: new URLSearchParams({ To: data.data.phone, From: from, Body: smsText(n.title, n.body) }).toString(),
    }, 'Twilio');
    const message = await res.json().catch(() => null) as { sid?: unknown } | null;
    await recordSentQuietly(ctx, n.id);
    return typeof message?.sid === 'string' ? { providerId: message.sid } : {};
  },
};

// whatsapp/message jobs (the WhatsApp queue of 20261122070600_whatsapp_queue.sql)
// and the whatsapp notification channel, through the WhatsApp Cloud API:
// POST {WHATSAPP_API_URL}/{WHATSAPP_PHONE_NUMBER_ID}/messages, bearer
// WHATSAPP_ACCESS_TOKEN. https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
// The API takes no idempotency key: the worker sends only under a lease that
// outlasts the request (handler.ts), and completes the job the moment the API
// accepted it, so a retry follows only a send that failed or whose answer was lost.
import { z } from 'zod';
import type { ChannelSender, JobHandler, WorkerContext } from './types.ts';
import { permanent, providerFetch, requireEnv } from './types.ts';

const e164 = z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'an E.164 number such as +250788123456');
const messageTypes = ['text', 'template', 'image', 'document', 'audio', 'video', 'location', 'interactive'] as const;

export const whatsappPayload = z
  .object({
    recipient_phone: e164,
    message_type: z.enum(messageTypes),
    message_payload: z.record(z.string(), z.unknown()),
  })
  .strict()
  .superRefine((p, issues) => {
    if (p.message_type === 'text' && (typeof p.message_payload.text !== 'string' || p.message_payload.text.length === 0)) {
      issues.addIssue({ code: 'custom', path: ['message_payload', 'text'], message: 'a text message needs "text"' });
    }
    if (p.message_type === 'template' && typeof p.message_payload.name !== 'string') {
      issues.addIssue({ code: 'custom', path: ['message_payload', 'name'], message: 'a template message needs "name"' });
    }
  });

export type WhatsAppPayload = z.infer<typeof whatsappPayload>;

/** The Cloud API body for a queued message (the queue keeps the seed's shape). */
export function cloudApiMessage(m: WhatsAppPayload): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: m.recipient_phone.slice(1), type: m.message_type };
  const p = m.message_payload;
  if (m.message_type === 'text') {
    return { ...base, text: { body: p.text, ...(p.preview_url === true ? { preview_url: true } : {}) } };
  }
  if (m.message_type === 'template') {
    const language = typeof p.language === 'string' ? { code: p.language } : (p.language ?? { code: 'en_US' });
    return { ...base, template: { name: p.name, language, ...(p.components ? { components: p.components } : {}) } };
  }
  return { ...base, [m.message_type]: p };
}

/** Sends one message; returns its wamid. */
export async function sendWhatsApp(ctx: WorkerContext, message: WhatsAppPayload): Promise<string> {
  const token = requireEnv(ctx, 'WHATSAPP_ACCESS_TOKEN');
  const phoneNumberId = requireEnv(ctx, 'WHATSAPP_PHONE_NUMBER_ID');
  const base = (ctx.env('WHATSAPP_API_URL') || 'https://graph.facebook.com/v21.0').replace(/\/+$/, '');
  const res = await providerFetch(ctx, `${base}/${encodeURIComponent(phoneNumberId)}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(cloudApiMessage(message)),
  }, 'WhatsApp');
  const body = (await res.json().catch(() => null)) as { messages?: Array<{ id?: unknown }> } | null;
  const id = body?.messages?.[0]?.id;
  if (typeof id !== 'string') throw permanent('WhatsApp answered without a message id', 'provider_rejected');
  return id;
}

export const whatsappMessageHandler: JobHandler<WhatsAppPayload> = {
  type: 'whatsapp/message',
  payload: whatsappPayload,
  async run(ctx, job) {
    // provider_message_id: what public.whatsapp_message_queue shows
    return { provider_message_id: await sendWhatsApp(ctx, job.payload) };
  },
};

export const whatsappChannel: ChannelSender = {
  channel: 'whatsapp',
  async send(ctx, n) {
    const phone = e164.safeParse(n.data.phone);
    if (!phone.success) throw permanent('a whatsapp notification needs data.phone, an E.164 number', 'no_recipient');
    const text = [n.title, n.body].filter(Boolean).join('\n\n');
    const id = await sendWhatsApp(ctx, { recipient_phone: phone.data, message_type: 'text', message_payload: { text } });
    return { providerId: id };
  },
};

// email/send jobs and the email notification channel, through Resend's HTTP
// API: POST {RESEND_API_URL}/emails with `Authorization: Bearer
// RESEND_API_KEY` and an `Idempotency-Key` (Resend keeps a key 24 hours: a
// retry of a send whose answer was lost delivers nothing twice).
// https://resend.com/docs/api-reference/emails/send-email
import { z } from 'zod';
import type { ChannelSender, JobHandler, WorkerContext } from './types.ts';
import { permanent, providerFetch, requireEnv } from './types.ts';

const address = z.string().trim().min(3).max(320).regex(/^[^\s@<>]+@[^\s@<>]+$/, 'an email address');
const addresses = z.union([address, z.array(address).min(1).max(50)]);

export const emailPayload = z
  .object({
    to: addresses,
    subject: z.string().min(1).max(998),
    html: z.string().min(1).max(500_000).optional(),
    text: z.string().min(1).max(500_000).optional(),
    /** Default: EMAIL_FROM. */
    from: z.string().min(3).max(320).optional(),
    reply_to: addresses.optional(),
    cc: addresses.optional(),
    bcc: addresses.optional(),
  })
  .strict()
  .refine((p) => p.html !== undefined || p.text !== undefined, { message: 'html or text is required' });

export type EmailPayload = z.infer<typeof emailPayload>;

/** Sends one email; returns Resend's id for it. */
export async function sendEmail(ctx: WorkerContext, email: EmailPayload, idempotencyKey: string): Promise<string> {
  const apiKey = requireEnv(ctx, 'RESEND_API_KEY');
  const from = email.from ?? requireEnv(ctx, 'EMAIL_FROM');
  const base = (ctx.env('RESEND_API_URL') || 'https://api.resend.com').replace(/\/+$/, '');
  const res = await providerFetch(ctx, `${base}/emails`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
    body: JSON.stringify({ ...email, from }),
  }, 'Resend');
  const body = (await res.json().catch(() => null)) as { id?: unknown } | null;
  if (typeof body?.id !== 'string') throw permanent('Resend answered without an email id', 'provider_rejected');
  return body.id;
}

export const emailSendHandler: JobHandler<EmailPayload> = {
  type: 'email/send',
  payload: emailPayload,
  async run(ctx, job) {
    return { provider_message_id: await sendEmail(ctx, job.payload, job.idempotencyKey) };
  },
};

/** The recipient of an email notification: data.email, else the user's profile email. */
async function recipientOf(ctx: WorkerContext, userId: string, data: Record<string, unknown>): Promise<string> {
  const given = address.safeParse(data.email);
  if (given.success) return given.data;
  const { data: profile, error } = await ctx.db.from('profiles').select('email').eq('id', userId).maybeSingle();
  if (error) throw permanent(`profiles: ${error.message}`, 'database_rejected');
  const found = address.safeParse(profile?.email);
  if (!found.success) throw permanent(`user ${userId} has no email address (profile or data.email)`, 'no_recipient');
  return found.data;
}

export const emailChannel: ChannelSender = {
  channel: 'email',
  async send(ctx, n) {
    const to = await recipientOf(ctx, n.userId, n.data);
    const subject = n.title ?? (typeof n.data.subject === 'string' ? n.data.subject : 'Notification');
    const html = typeof n.data.html === 'string' ? n.data.html : undefined;
    const id = await sendEmail(ctx, { to, subject, text: n.body ?? '', ...(html ? { html } : {}) }, n.idempotencyKey);
    return { providerId: id };
  },
};

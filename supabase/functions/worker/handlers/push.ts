// The push channel through Web Push: the message encrypted for the browser's
// subscription (RFC 8291, aes128gcm content coding) and signed for the push
// service with the application's VAPID key (RFC 8292), with WebCrypto only,
// so the same code runs under Deno and Node.
//
// The subscription is the notification's data.push_subscription, the
// browser's PushSubscription.toJSON() ({endpoint, keys: {p256dh, auth}}): the
// schema keeps no subscriptions, so whoever creates a push notification
// passes the one to use. A push service answering 404 or 410 means the
// subscription is gone: a permanent failure.
//
// Sent once: Web Push has no idempotency key, so sent_at is recorded as soon
// as the push service accepts the message and a later claim does not send
// again; the Topic header (the notification id) also lets the push service
// replace an undelivered duplicate instead of delivering both.
import { z } from 'zod';
import { alreadySent, recordSent } from './records.ts';
import { type ChannelSender, type NotificationInput, permanent, providerFetch, requireEnv, type WorkerContext } from './types.ts';

const base64url = z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, 'base64url');

export const pushSubscription = z.object({
  endpoint: z.url({ protocol: /^https?$/ }),
  keys: z.object({ p256dh: base64url, auth: base64url }),
});
export type PushSubscription = z.infer<typeof pushSubscription>;

export const pushData = z.object({ push_subscription: pushSubscription }).loose();

/** Seconds the push service keeps an undelivered message. */
export const pushTtlSeconds = 24 * 60 * 60;
/** One aes128gcm record: 4096 bytes, less the 16-byte tag and the delimiter. */
const recordSize = 4096;
export const maxPushPayloadBytes = recordSize - 16 - 1;

const encoder = new TextEncoder();

export function fromBase64url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** HKDF-SHA-256 (extract and expand) of `length` bytes. */
export async function hkdf(salt: Uint8Array<ArrayBuffer>, ikm: Uint8Array<ArrayBuffer>, info: Uint8Array<ArrayBuffer>, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info }, key, length * 8));
}

/** The content-encryption key and nonce of RFC 8291 section 3.4 and RFC 8188. */
export async function contentKeys(ecdhSecret: Uint8Array<ArrayBuffer>, authSecret: Uint8Array<ArrayBuffer>,
  uaPublic: Uint8Array, asPublic: Uint8Array, salt: Uint8Array<ArrayBuffer>): Promise<{ cek: Uint8Array<ArrayBuffer>; nonce: Uint8Array<ArrayBuffer> }> {
  const keyInfo = concat(encoder.encode('WebPush: info\0'), uaPublic, asPublic);
  const ikm = await hkdf(authSecret, ecdhSecret, keyInfo, 32);
  const cek = await hkdf(salt, ikm, encoder.encode('Content-Encoding: aes128gcm\0'), 16);
  const nonce = await hkdf(salt, ikm, encoder.encode('Content-Encoding: nonce\0'), 12);
  return { cek, nonce };
}

/** RFC 8291: the payload encrypted for one subscription, as one aes128gcm record with its header. */
export async function encryptPayload(subscription: PushSubscription, plaintext: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const uaPublic = fromBase64url(subscription.keys.p256dh);
  const authSecret = fromBase64url(subscription.keys.auth);
  if (uaPublic.length !== 65 || uaPublic[0] !== 4) throw permanent('push subscription keys.p256dh is not an uncompressed P-256 key', 'invalid_payload');
  if (authSecret.length !== 16) throw permanent('push subscription keys.auth is not 16 bytes', 'invalid_payload');

  const ua = await crypto.subtle.importKey('raw', uaPublic, { name: 'ECDH', namedCurve: 'P-256' }, false, []);
  const local = await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, true, ['deriveBits']) as CryptoKeyPair;
  const asPublic = new Uint8Array(await crypto.subtle.exportKey('raw', local.publicKey));
  const ecdhSecret = new Uint8Array(await crypto.subtle.deriveBits({ name: 'ECDH', public: ua }, local.privateKey, 256));
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const { cek, nonce } = await contentKeys(ecdhSecret, authSecret, uaPublic, asPublic, salt);

  const key = await crypto.subtle.importKey('raw', cek, 'AES-GCM', false, ['encrypt']);
  // 0x02: the last (and only) record's padding delimiter
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce }, key, concat(plaintext, new Uint8Array([2]))));
  const header = new Uint8Array(16 + 4 + 1);
  header.set(salt, 0);
  new DataView(header.buffer).setUint32(16, recordSize);
  header[20] = asPublic.length;
  return concat(header, asPublic, ciphertext);
}

/** RFC 8292: `vapid t=<JWT signed ES256 for the push service's origin>, k=<public key>`. */
export async function vapidAuthorization(endpoint: string, publicKey: string, privateKey: string, subject: string, now: Date): Promise<string> {
  const pub = fromBase64url(publicKey);
  if (pub.length !== 65 || pub[0] !== 4) throw permanent('VAPID_PUBLIC_KEY is not an uncompressed P-256 public key (base64url)', 'not_configured');
  const d = fromBase64url(privateKey);
  if (d.length > 32) throw permanent('VAPID_PRIVATE_KEY is not a P-256 private key (32 bytes, base64url)', 'not_configured');
  // JWK wants exactly 32 bytes; a key exported without its leading zero bytes is the same number
  const jwk = { kty: 'EC', crv: 'P-256', d: toBase64url(concat(new Uint8Array(32 - d.length), d)),
    x: toBase64url(pub.slice(1, 33)), y: toBase64url(pub.slice(33, 65)) };
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  } catch (e) {
    throw permanent(`VAPID_PRIVATE_KEY does not match a P-256 key: ${(e as Error).message}`, 'not_configured');
  }
  const header = toBase64url(encoder.encode(JSON.stringify({ typ: 'JWT', alg: 'ES256' })));
  const claims = toBase64url(encoder.encode(JSON.stringify({
    aud: new URL(endpoint).origin, exp: Math.floor(now.getTime() / 1000) + 12 * 60 * 60, sub: subject,
  })));
  // WebCrypto's ECDSA signature is r || s, the JWS ES256 form.
  const signature = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, encoder.encode(`${header}.${claims}`)));
  return `vapid t=${header}.${claims}.${toBase64url(signature)}, k=${toBase64url(pub)}`;
}

/** What the service worker receives: the notification without the subscription. */
function pushMessage(n: NotificationInput): Uint8Array {
  const { push_subscription: _subscription, ...data } = n.data;
  const bytes = encoder.encode(JSON.stringify({ id: n.id, title: n.title, body: n.body, data }));
  if (bytes.length > maxPushPayloadBytes) {
    throw permanent(`push message is ${bytes.length} bytes; Web Push carries at most ${maxPushPayloadBytes}`, 'invalid_payload');
  }
  return bytes;
}

async function recordSentQuietly(ctx: WorkerContext, id: string): Promise<void> {
  // The push service has the message: failing now would only send it again.
  await recordSent(ctx, id).catch((e) => ctx.log('push: could not record sent_at', { notification_id: id, error: String(e) }));
}

export const pushSender: ChannelSender = {
  channel: 'push',
  async send(ctx, n) {
    const data = pushData.safeParse(n.data);
    if (!data.success) {
      throw permanent('push notification without a valid data.push_subscription ({endpoint, keys: {p256dh, auth}}): '
        + `${data.error.issues[0]?.path.join('.')} ${data.error.issues[0]?.message}`, 'invalid_payload');
    }
    const publicKey = requireEnv(ctx, 'VAPID_PUBLIC_KEY');
    const privateKey = requireEnv(ctx, 'VAPID_PRIVATE_KEY');
    const subject = requireEnv(ctx, 'VAPID_SUBJECT');
    if (await alreadySent(ctx, n.id)) return {};

    const { endpoint } = data.data.push_subscription;
    const body = await encryptPayload(data.data.push_subscription, pushMessage(n));
    const res = await providerFetch(ctx, endpoint, {
      method: 'POST',
      headers: {
        authorization: await vapidAuthorization(endpoint, publicKey, privateKey, subject, ctx.now()),
        'content-encoding': 'aes128gcm',
        'content-type': 'application/octet-stream',
        ttl: String(pushTtlSeconds),
        urgency: 'normal',
        topic: n.id.replace(/-/g, ''),
      },
      body,
    }, 'push service');
    await recordSentQuietly(ctx, n.id);
    // The push service names the message in Location (RFC 8030 section 5).
    const location = res.headers.get('location');
    return location ? { providerId: location } : {};
  },
};

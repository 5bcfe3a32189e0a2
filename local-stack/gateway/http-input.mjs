// What the gateway accepts from a client before anything reaches the RPC code:
// a body no larger than the limit (refused as soon as the limit is known to be
// passed, without buffering the rest), text that is valid UTF-8 and, where it
// becomes SQL text (query strings, form bodies), free of NUL, and JSON nested
// no deeper than PostgreSQL can take. rpc.mjs then receives clean strings.
// docs/functions.md "The local API gateway" has the limits and why.
import v8 from 'node:v8';
import vm from 'node:vm';

/** The largest request body accepted (bytes): a message of 1,000,000 characters plus its parts fits. */
export const maxBodyBytes = 10 * 1024 * 1024;

/**
 * Bodies being handled at once may total this many bytes; further requests
 * wait, unread. One body at the limit at a time, with room beside it for
 * ordinary requests: a large body costs the gateway several times its size
 * while it is turned into SQL.
 */
export const bodyBudgetBytes = maxBodyBytes + 2 * 1024 * 1024;

/** Deepest JSON nesting accepted ([ and { levels). */
export const maxJsonDepth = 1000;

/** A refusal with PostgREST's error shape: the server turns it into the response. */
export class InputError extends Error {
  constructor(status, code, message, details = null, hint = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.hint = hint;
  }
}

// `declared`: the Content-Length, or null when a chunked body passed the limit.
const tooLarge = (declared) => new InputError(413, 'LOCAL413',
  `Request body too large: the local API gateway accepts at most ${maxBodyBytes} bytes`,
  declared === null ? `The body passed ${maxBodyBytes} bytes` : `Content-Length is ${declared} bytes`,
  'Send less per call (split large payloads), or store large files in Storage and send their path.');

// V8 collects by heap-growth heuristics and, under a heap limit of gigabytes,
// lets hundreds of megabytes of finished request bodies (and the SQL text
// built from them) pile up before it does. A full collection once a large
// body is done keeps the resident size near what is live. gc() is exposed at
// run time, so no node flag is needed (npm test runs the gateway inside its
// runner's process).
let fullGc = null;
function collectGarbageSoon() {
  if (!fullGc) {
    v8.setFlagsFromString('--expose-gc');
    fullGc = vm.runInNewContext('gc');
  }
  if (!collectGarbageSoon.pending) {
    collectGarbageSoon.pending = setImmediate(() => {
      collectGarbageSoon.pending = null;
      fullGc();
    });
  }
}

/** Bodies at least this large are followed by a full garbage collection. */
const collectAfterBytes = 1024 * 1024;

/**
 * Admits bodies while their sizes total at most `total` bytes; a request that
 * would pass it waits (its socket is not read, so the client is held by TCP
 * flow control rather than by the gateway's memory). Waiters are admitted in
 * order as room frees, each as soon as it fits, so small bodies pass a large
 * one that waits.
 */
export function createBodyBudget(total = bodyBudgetBytes) {
  let free = total;
  let waiting = [];
  const grant = () => {
    waiting = waiting.filter((w) => {
      if (w.bytes > free) return true;
      free -= w.bytes;
      w.resolve(releaser(w.bytes));
      return false;
    });
  };
  const releaser = (bytes) => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      free += bytes;
      if (bytes >= collectAfterBytes) collectGarbageSoon();
      grant();
    };
  };
  return {
    acquire(bytes) {
      return new Promise((resolve) => {
        waiting.push({ bytes: Math.min(bytes, total), resolve });
        grant();
      });
    },
  };
}

/** The declared body size, or null for a chunked body. */
function declaredLength(req) {
  const value = req.headers['content-length'];
  if (value === undefined) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * Reads the request body into a Buffer, holding a share of `budget` (the
 * declared length, or the limit for a chunked body) until the response ends.
 * Throws InputError 413 before reading when Content-Length is over the limit,
 * and as soon as a chunked body passes it.
 */
export async function readBody(req, res, { budget, limit = maxBodyBytes } = {}) {
  const declared = declaredLength(req);
  if (declared !== null && declared > limit) throw tooLarge(declared);
  if (declared === 0) return Buffer.alloc(0);
  const release = budget ? await budget.acquire(declared ?? limit) : () => undefined;
  res.once('close', release);
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const onData = (chunk) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        release();
        // The rest is read and dropped while the answer goes out (server.mjs sendInputError).
        req.resume();
        reject(tooLarge(null));
      } else chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/**
 * Where a buffer stops being UTF-8: the offset of the first byte of an invalid
 * sequence, or -1. Overlong forms, surrogates and code points above U+10FFFF
 * are invalid (RFC 3629).
 */
export function invalidUtf8Offset(buf) {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i];
    if (b < 0x80) { i += 1; continue; }
    let n;
    let min;
    if (b >= 0xc2 && b <= 0xdf) { n = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { n = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { n = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

// PostgreSQL's wording for the same fault (22021 character_not_in_repertoire),
// which is what PostgREST passes on when a parameter carries it.
function badEncoding(bytes, where) {
  const shown = [...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
  return new InputError(400, '22021', `invalid byte sequence for encoding "UTF8": ${shown}`, where, null);
}

/** Decodes UTF-8 strictly: invalid bytes are refused (400), never replaced. */
export function decodeUtf8(buf, where) {
  const at = invalidUtf8Offset(buf);
  if (at >= 0) throw badEncoding(buf.subarray(at, Math.min(at + 2, buf.length)), `${where} is not valid UTF-8 at byte ${at}`);
  return buf.toString('utf8');
}

// PostgREST decodes a JSON body with aeson, which refuses invalid UTF-8:
// PGRST102, as for any body it cannot decode (ApiRequest/Payload.hs).
function jsonText(buf) {
  const at = invalidUtf8Offset(buf);
  if (at < 0) return buf.toString('utf8');
  throw new InputError(400, 'PGRST102', 'Empty or invalid json', `The request body is not valid UTF-8 at byte ${at}`, null);
}

/** Refuses NUL, which PostgreSQL text cannot hold. */
export function rejectNul(text, where) {
  const at = text.indexOf('\0');
  if (at >= 0) throw badEncoding([0], `${where} contains a NUL character (U+0000) at character ${at}`);
  return text;
}

// One component of an application/x-www-form-urlencoded string, as bytes.
function percentDecode(text) {
  const bytes = [];
  const raw = Buffer.from(text.replace(/\+/g, ' '), 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === 0x25 && i + 2 < raw.length ? raw.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(raw[i]);
  }
  return Buffer.from(bytes);
}

/**
 * Parses a query string or form body as URLSearchParams does, but refuses
 * (400) a name or value whose percent-decoded bytes are not UTF-8 or hold NUL,
 * where URLSearchParams would put U+FFFD in their place.
 */
export function strictSearchParams(text, where) {
  const params = new URLSearchParams();
  for (const pair of text.replace(/^\?/, '').split('&')) {
    if (!pair) continue;
    const i = pair.indexOf('=');
    const [name, value] = i < 0 ? [pair, ''] : [pair.slice(0, i), pair.slice(i + 1)];
    const decodedName = rejectNul(decodeUtf8(percentDecode(name), `${where}: a parameter name`), `${where}: a parameter name`);
    const label = `${where}: the parameter "${decodedName}"`;
    params.append(decodedName, rejectNul(decodeUtf8(percentDecode(value), label), label));
  }
  return params;
}

/** One percent-encoded path segment, decoded as strictly as strictSearchParams decodes. */
export function strictPathSegment(segment, where) {
  return rejectNul(decodeUtf8(percentDecode(segment.replace(/\+/g, '%2B')), where), where);
}

/**
 * Refuses JSON nested deeper than `max` levels. A linear scan (no recursion),
 * skipping strings; the text need not be valid JSON (JSON.parse judges that).
 */
export function checkJsonDepth(text, max = maxJsonDepth) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) {
        throw new InputError(400, 'LOCAL400', `JSON nested deeper than ${max} levels`,
          `The body passes ${max} nested arrays or objects at character ${i}`,
          'PostgREST hands such a body to PostgreSQL, whose JSON parser fails with 54001 (stack depth limit exceeded) past its stack depth; the local API gateway refuses it first.');
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
}

/**
 * The body of a POST to /rest/v1 as clean text: read within the limits,
 * strict UTF-8, and checked for its media type (JSON depth; form fields as
 * strictSearchParams). Media types rpc.mjs refuses pass through unchecked.
 */
export async function readRestBody(req, res, { budget } = {}) {
  const body = await readBody(req, res, { budget });
  const type = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') {
    const text = jsonText(body);
    checkJsonDepth(text);
    return text;
  }
  const text = decodeUtf8(body, 'The request body');
  if (type === 'application/x-www-form-urlencoded') strictSearchParams(text, 'The form body');
  return text;
}

// A minimal Redis (RESP2) client for Deno over Deno.connect, for the
// benchmark's Redis limiter (limiter.ts): one connection, commands written as
// they come and replies matched in order, as node-redis and ioredis do.
type Reply = string | number | null | Reply[];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(args: (string | number)[]): Uint8Array {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${encoder.encode(s).length}\r\n${s}\r\n`;
  }
  return encoder.encode(out);
}

function lineEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return -1;
}

/** One reply from `buf` at `pos`: [value, next position], or null when incomplete. */
function parse(buf: Uint8Array, pos: number): [Reply | Error, number] | null {
  const eol = lineEnd(buf, pos);
  if (eol < 0) return null;
  const type = buf[pos];
  const line = decoder.decode(buf.subarray(pos + 1, eol));
  const next = eol + 2;
  if (type === 43) return [line, next]; // +
  if (type === 45) return [new Error(line), next]; // -
  if (type === 58) return [Number(line), next]; // :
  if (type === 36) { // $
    const n = Number(line);
    if (n < 0) return [null, next];
    if (buf.length < next + n + 2) return null;
    return [decoder.decode(buf.subarray(next, next + n)), next + n + 2];
  }
  if (type === 42) { // *
    const n = Number(line);
    if (n < 0) return [null, next];
    const items: Reply[] = [];
    let p = next;
    for (let i = 0; i < n; i++) {
      const r = parse(buf, p);
      if (!r) return null;
      if (r[0] instanceof Error) return [r[0], r[1]];
      items.push(r[0]);
      p = r[1];
    }
    return [items, p];
  }
  throw new Error(`unexpected RESP type ${type}`);
}

export interface RedisConnection {
  send(args: (string | number)[]): Promise<Reply>;
}

export async function connectRedis(port: number, hostname = '127.0.0.1'): Promise<RedisConnection> {
  const conn = await Deno.connect({ hostname, port });
  conn.setNoDelay(true);
  const waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  (async () => {
    let buf: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(chunk).catch(() => null);
      if (n === null) break;
      const joined = new Uint8Array(buf.length + n);
      joined.set(buf);
      joined.set(chunk.subarray(0, n), buf.length);
      let pos = 0;
      for (let r; waiting.length && (r = parse(joined, pos));) {
        pos = r[1];
        const w = waiting.shift()!;
        if (r[0] instanceof Error) w.reject(r[0]);
        else w.resolve(r[0]);
      }
      buf = joined.subarray(pos);
    }
    while (waiting.length) waiting.shift()!.reject(new Error('redis connection closed'));
  })();
  // Writes one after another, each to its last byte, so commands never interleave.
  let writing: Promise<unknown> = Promise.resolve();
  const writeAll = async (bytes: Uint8Array) => {
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  };
  return {
    send(args) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        writing = writing.then(() => writeAll(encode(args))).catch(reject);
      });
    },
  };
}

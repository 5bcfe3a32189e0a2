// A minimal Redis (RESP2) client for Node, enough for benchmarks/redis.mjs:
// commands are written as they come and replies matched in order, as the
// usual clients (node-redis, ioredis) do on one connection.
import net from 'node:net';

/** Encodes one command (an array of strings or numbers) as a RESP array of bulk strings. */
export function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/**
 * Parses one reply from `buf` at `pos`: returns [value, next position], or
 * null when the buffer does not hold a whole reply yet. An error reply is
 * returned as an Error (thrown to the command's caller, not here).
 */
export function parse(buf, pos = 0) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': return [line, next];
    case '-': return [new Error(line), next];
    case ':': return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return null;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return null;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
  }
}

/** Connects to 127.0.0.1:port; returns {send(args) -> Promise<reply>, close()}. */
export function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const waiting = [];
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let pos = 0;
      for (let r; waiting.length && (r = parse(buf, pos));) {
        pos = r[1];
        const { resolve: ok, reject: fail } = waiting.shift();
        if (r[0] instanceof Error) fail(r[0]);
        else ok(r[0]);
      }
      buf = buf.subarray(pos);
    });
    const failAll = (e) => { while (waiting.length) waiting.shift().reject(e); };
    socket.on('error', (e) => { failAll(e); reject(e); });
    socket.on('close', () => failAll(new Error('redis connection closed')));
    socket.once('connect', () => resolve({
      send(args) {
        return new Promise((ok, fail) => {
          waiting.push({ resolve: ok, reject: fail });
          socket.write(encode(args));
        });
      },
      close() { socket.end(); },
    }));
  });
}

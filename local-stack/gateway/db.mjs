// The gateway's database connections, made to outlive a database restart:
// the request pool (a dead connection is dropped, never a crash) and the
// LISTEN connection for schema-cache reloads (reconnected with backoff, as
// PostgREST's listener is). While the database is away requests get 503 from
// rpc.mjs (PGRST000, as PostgREST answers).
import pg from 'pg';

// A connection error as the client may see it: Node's messages name the
// database's address ("connect ECONNREFUSED 127.0.0.1:54322"), which is not
// the client's business.
function withoutAddress(e) {
  const message = e?.code === 'ECONNREFUSED' ? 'the database refused the connection' : String(e?.message ?? e)
    .replace(/\[?[0-9a-f:.]*[0-9a-f]\]?:\d{1,5}\b/gi, 'the database')
    .replace(/\bport \d{1,5}\b/g, 'its port');
  const clean = new Error(message);
  clean.code = e?.code;
  return clean;
}

/**
 * A pg.Pool whose clients can die at any time without taking the process down.
 * pg emits 'error' on a client whose connection ends, also while it is checked
 * out, when the pool no longer listens on it: that was an unhandled 'error'
 * event. Every client gets a listener for its whole life; pg-pool drops a
 * client that is no longer queryable when it is released. Connection errors
 * come out without the database's address.
 */
class GatewayPool extends pg.Pool {
  connect(callback) {
    if (callback) return super.connect((err, client, done) => callback(err && withoutAddress(err), client, done));
    return super.connect().catch((e) => {
      throw withoutAddress(e);
    });
  }
}

export function createPool({ connectionString, max = 10, applicationName = 'local-api-gateway', log = () => undefined }) {
  const pool = new GatewayPool({
    connectionString,
    max,
    application_name: applicationName,
    // Statements are written without waiting for the one before (request.mjs
    // inTransaction), as PostgREST pipelines its transaction through hasql.
    pipeline: true,
    // Fail over to a 503 rather than hang when the server accepts but never answers.
    connectionTimeoutMillis: 10_000,
  });
  pool.on('connect', (client) => {
    client.on('error', (e) => log(`gateway: a database connection ended: ${e.message}`));
  });
  pool.on('error', () => undefined); // idle clients: the pool drops them
  return pool;
}

const firstRetryMs = 250;
// PostgREST caps its listener's backoff at 32 s (AppState/Reload.hs retryingListen).
const maxRetryMs = 32_000;

/**
 * LISTEN on `channel` over its own connection, reconnecting with exponential
 * backoff when it is lost. `onNotification(payload)` per notification;
 * `onReconnect()` after a reconnect, since notifications sent meanwhile were
 * lost (PostgREST reloads its schema cache then). Resolves once listening;
 * rejects if the first connection fails. Returns {end()}.
 */
export async function listenForNotifications({
  url, channel, onNotification, onReconnect = () => undefined, log = () => undefined,
  applicationName = 'local-api-gateway-listener',
}) {
  let client = null;
  let ended = false;
  let timer = null;
  let delay = firstRetryMs;

  async function connect() {
    const c = new pg.Client({ connectionString: url, application_name: applicationName });
    c.on('error', () => undefined); // 'end' follows and schedules the retry
    c.on('notification', (n) => onNotification(n.payload ?? ''));
    try {
      await c.connect();
      await c.query(`listen ${pg.Client.prototype.escapeIdentifier(channel)}`);
    } catch (e) {
      c.end().catch(() => undefined);
      throw e;
    }
    c.once('end', () => {
      if (client === c) client = null;
      if (!ended) {
        log(`gateway: lost the LISTEN ${channel} connection; reconnecting`);
        retry();
      }
    });
    if (ended) {
      c.end().catch(() => undefined);
      return;
    }
    client = c;
  }

  function retry() {
    timer = setTimeout(async () => {
      timer = null;
      if (ended) return;
      try {
        await connect();
        delay = firstRetryMs;
        log(`gateway: LISTEN ${channel} reconnected`);
        onReconnect();
      } catch {
        delay = Math.min(delay * 2, maxRetryMs);
        retry();
      }
    }, delay);
    timer.unref();
  }

  await connect();
  return {
    async end() {
      ended = true;
      if (timer) clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}

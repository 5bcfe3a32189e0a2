// Edge function entry: POST /functions/v1/webhook (verify_jwt = false: the
// provider signs with Standard Webhooks instead). Logic in handler.ts; every
// request is logged (_shared/request-log.ts).
import { serviceClient } from '../_shared/clients.ts';
import { loadEnv } from '../_shared/env.ts';
import { rpcWriter, withRequestLog } from '../_shared/request-log.ts';
import { createWebhookHandler } from './handler.ts';

const env = loadEnv((name) => Deno.env.get(name));
const service = serviceClient(env);

Deno.serve(withRequestLog(createWebhookHandler(env, { client: service }), { fn: 'webhook', writer: rpcWriter(service) }));

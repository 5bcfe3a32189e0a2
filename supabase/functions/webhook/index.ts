// Edge function entry: POST /functions/v1/webhook (verify_jwt = false: the
// provider signs with Standard Webhooks instead). Logic in handler.ts.
import { loadEnv } from '../_shared/env.ts';
import { createWebhookHandler } from './handler.ts';

Deno.serve(createWebhookHandler(loadEnv((name) => Deno.env.get(name))));

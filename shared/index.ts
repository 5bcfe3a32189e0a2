// Shared by edge functions (Deno, with each function's deno.json) and client
// apps (Node/bundlers): generated database types, zod schemas of the RPC
// contract, error codes. Functions import the modules they need directly
// (e.g. ./schemas/usage.ts), not this index: deploy uploads every file a
// function's imports reach (docs/functions.md).
export type { Database, Json, Tables, TablesInsert, TablesUpdate } from './database.types.ts';
export * from './errors.ts';
export * from './rate-limit-headers.ts';
export * as identity from './schemas/identity.ts';
export * as chat from './schemas/chat.ts';
export * as platform from './schemas/platform.ts';
export * as observability from './schemas/observability.ts';
export * as usage from './schemas/usage.ts';
export * as integrations from './schemas/integrations.ts';
export * as admin from './schemas/admin.ts';

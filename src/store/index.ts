/** Persistence shared by gate and watch: Kysely over SQLite (default) or PostgreSQL, same migrations for both. */
export * from './alerts.js';
export * from './cursors.js';
export * from './events.js';
export * from './heartbeats.js';
export * from './kv.js';
export type { Dialect } from './migrations.js';
export type { Database } from './schema.js';
export { openStore, type Store, type StoreOptions } from './store.js';

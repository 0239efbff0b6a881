import type { Store } from './store.js';

/** Durable key/value state in a namespace (correlation windows, throttle counters): survives restarts. */
export async function kvGet(store: Store, namespace: string, key: string): Promise<string | undefined> {
  const row = await store.db
    .selectFrom('kv_state')
    .select('value')
    .where('namespace', '=', namespace)
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value;
}

export async function kvPut(store: Store, namespace: string, key: string, value: string, now: number) {
  await store.db
    .insertInto('kv_state')
    .values({ namespace, key, value, updated_at: now })
    .onConflict((oc) => oc.columns(['namespace', 'key']).doUpdateSet({ value, updated_at: now }))
    .execute();
}

export async function kvDelete(store: Store, namespace: string, key: string): Promise<void> {
  await store.db.deleteFrom('kv_state').where('namespace', '=', namespace).where('key', '=', key).execute();
}

export async function kvList(store: Store, namespace: string): Promise<{ key: string; value: string }[]> {
  return store.db
    .selectFrom('kv_state')
    .select(['key', 'value'])
    .where('namespace', '=', namespace)
    .orderBy('key')
    .execute();
}

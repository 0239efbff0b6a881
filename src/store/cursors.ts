import type { Store } from './store.js';

/** What an ingest source has already read (CloudTrail files/objects), so a restart does not re-read them. */
export async function readItems(store: Store, source: string): Promise<Map<string, string>> {
  const rows = await store.db
    .selectFrom('ingest_cursors')
    .select(['item', 'version'])
    .where('source', '=', source)
    .execute();
  return new Map(rows.map((r) => [r.item, r.version]));
}

export async function markItemRead(store: Store, source: string, item: string, version: string, now: number) {
  await store.db
    .insertInto('ingest_cursors')
    .values({ source, item, version, read_at: now })
    .onConflict((oc) => oc.columns(['source', 'item']).doUpdateSet({ version, read_at: now }))
    .execute();
}

import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CachingResolver, compileConfig, guardAddress, PinnedResolver } from '../../src/egress/index.js';
import { resolveAndGuard } from '../../src/egress/net.js';
import { TableResolver } from './helpers.js';

const policyWith = (allowCidrs: string[]) =>
  compileConfig(
    { listen: '127.0.0.1:0', defaultPolicy: 'p', policies: { p: { allow: ['*.test'], allowCidrs } } },
    tmpdir(),
  ).defaultPolicy!;

describe('resolver cache', () => {
  it('answers from the cache within its lifetime, then asks again', async () => {
    const table = new TableResolver({ 'a.test': ['203.0.113.1'] });
    const cache = new CachingResolver(table, 50);
    expect(await cache.resolve('a.test')).toEqual(['203.0.113.1']);
    expect(cache.peek('a.test')).toEqual(['203.0.113.1']);
    expect(await cache.resolve('a.test')).toEqual(['203.0.113.1']);
    expect(table.calls.get('a.test')).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(cache.peek('a.test')).toBeUndefined();
    await cache.resolve('a.test');
    expect(table.calls.get('a.test')).toBe(2);
  });

  it('concurrent lookups of one name share one query; failures are not cached', async () => {
    const table = new TableResolver({ 'a.test': ['203.0.113.1'] });
    const cache = new CachingResolver(table);
    await Promise.all([cache.resolve('a.test'), cache.resolve('a.test'), cache.resolve('a.test')]);
    expect(table.calls.get('a.test')).toBe(1);
    await expect(cache.resolve('missing.test')).rejects.toThrow(/ENOTFOUND/);
    await expect(cache.resolve('missing.test')).rejects.toThrow(/ENOTFOUND/);
    expect(table.calls.get('missing.test')).toBe(2);
  });

  it('the table is bounded', async () => {
    const names = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`n${i}.test`, ['203.0.113.1']]));
    const cache = new CachingResolver(new TableResolver(names), 60_000, 10);
    for (const n of Object.keys(names)) await cache.resolve(n);
    const kept = Object.keys(names).filter((n) => cache.peek(n) !== undefined);
    expect(kept.length).toBeLessThanOrEqual(10);
  });

  it('a cached private answer is still refused by the guard on every request', async () => {
    const cache = new CachingResolver(new TableResolver({ 'meta.test': ['169.254.169.254'] }));
    const resolver = new PinnedResolver(new Map(), cache);
    const policy = policyWith([]);
    for (let i = 0; i < 3; i++) {
      const r = await resolveAndGuard(policy, resolver, 'meta.test', 1000);
      expect(r).toEqual({
        decision: { allow: false, reason: 'address_denied', detail: '169.254.169.254 is metadata' },
      });
    }
  });

  it('pins answer without waiting and are guarded like any answer', async () => {
    const resolver = new PinnedResolver(new Map([['pin.test', ['127.0.0.1']]]), new TableResolver({}));
    expect(resolver.peek('pin.test')).toEqual(['127.0.0.1']);
    expect(await resolveAndGuard(policyWith([]), resolver, 'pin.test', 1000)).toMatchObject({
      decision: { reason: 'address_denied' },
    });
    expect(await resolveAndGuard(policyWith(['127.0.0.0/8']), resolver, 'pin.test', 1000)).toEqual({
      address: '127.0.0.1',
    });
  });
});

describe('guard decisions are remembered per policy', () => {
  it('the same address gets each policy its own answer, repeatedly', () => {
    const open = policyWith(['10.0.0.0/8']);
    const closed = policyWith([]);
    for (let i = 0; i < 3; i++) {
      expect(guardAddress(open, '10.1.2.3')).toEqual({ allow: true, reason: 'address_allowed_by_cidr' });
      expect(guardAddress(closed, '10.1.2.3')).toMatchObject({ allow: false, reason: 'address_denied' });
      expect(guardAddress(closed, '8.8.8.8')).toEqual({ allow: true, reason: 'address_public' });
    }
  });
});

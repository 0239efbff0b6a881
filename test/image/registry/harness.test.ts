/**
 * The shared registry test harness (test/helpers/registry.ts) itself: missing test images fail loudly,
 * and push notifications reach a listener (what gate tests build on).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { UnavailableError } from '../../../src/core/errors.js';
import { openRegistryImage } from '../../../src/image/registry/index.js';
import { freePort } from '../../helpers/free-port.js';
import { startRegistry, type TestRegistry } from '../../helpers/registry.js';
import { testImage } from '../../helpers/test-images.js';

let reg: TestRegistry | undefined;
afterEach(async () => {
  await reg?.stop();
  reg = undefined;
});

describe('registry test harness', () => {
  test('missing test images fail with a message that says how to build them', () => {
    const saved = process.env.PALISADE_TEST_IMAGES;
    process.env.PALISADE_TEST_IMAGES = '/nonexistent/palisade-test-images';
    try {
      expect(() => testImage('debian')).toThrow(
        'test image debian missing in /nonexistent/palisade-test-images: run scripts/test-images.sh (or set PALISADE_TEST_IMAGES)',
      );
    } finally {
      if (saved === undefined) delete process.env.PALISADE_TEST_IMAGES;
      else process.env.PALISADE_TEST_IMAGES = saved;
    }
  });

  test('a push is announced to the notifications URL as a distribution event', async () => {
    const events: { action: string; target: { repository: string; tag?: string; mediaType: string } }[] = [];
    const listener = createServer(async (req, res) => {
      let body = '';
      for await (const c of req) body += c;
      if (req.headers['content-type']?.startsWith('application/vnd.docker.distribution.events.v1+json')) {
        events.push(...(JSON.parse(body) as { events: typeof events }).events);
      }
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as AddressInfo).port;
      reg = await startRegistry({ notificationsUrl: `http://127.0.0.1:${port}/events` });
      await reg.pushImage('npm-app', 'palisade/notify:app');
      const deadline = Date.now() + 15_000;
      const pushed = () =>
        events.find((e) => e.action === 'push' && e.target.repository === 'palisade/notify' && e.target.tag === 'app');
      while (pushed() === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(pushed()?.target.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    } finally {
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    }
  });

  test('a stopped registry refuses connections: UnavailableError "connection refused"', async () => {
    const port = await freePort();
    const err = await openRegistryImage(`127.0.0.1:${port}/palisade/debian:bookworm`, {
      insecureRegistry: true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as Error).message).toBe(`registry 127.0.0.1:${port}: connection refused`);
  });
});

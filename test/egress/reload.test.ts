import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEgress } from '../../src/egress/index.js';
import {
  body,
  closeServer,
  connectVia,
  echo,
  LoopbackDialer,
  MemoryLog,
  startTcpUpstream,
  TableResolver,
  waitFor,
} from './helpers.js';

let tcp: Awaited<ReturnType<typeof startTcpUpstream>>;
beforeAll(async () => {
  tcp = await startTcpUpstream();
});
afterAll(async () => {
  await closeServer(tcp.server);
});

const yamlAllowing = (host: string, port: number) => `
listen: 127.0.0.1:0
defaultPolicy: p
policies:
  p:
    allow:
      - host: ${host}
        ports: [${port}]
    allowCidrs: [127.0.0.0/8]
`;

describe('egress reload', () => {
  it('a policy change while 200 tunnels carry traffic drops none of them; new requests follow the new policy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'palisade-egress-'));
    const file = join(dir, 'egress.yaml');
    await writeFile(file, yamlAllowing('old.test', tcp.port));
    const notices: Array<[string, boolean]> = [];
    const log = new MemoryLog();
    const dialer = new LoopbackDialer();
    const running = await startEgress({
      configPath: file,
      watch: true,
      resolver: new TableResolver({ 'old.test': ['127.0.0.1'], 'new.test': ['127.0.0.1'] }),
      dialer,
      log,
      onNotice: (m, ok) => notices.push([m, ok]),
    });
    const port = running.address.port;
    const tunnels = await Promise.all(Array.from({ length: 200 }, () => connectVia(port, `old.test:${tcp.port}`)));
    expect(tunnels.every((t) => t.status === 200)).toBe(true);
    let closed = 0;
    for (const t of tunnels) t.socket.once('close', () => closed++);

    // Keep every tunnel busy while the file is replaced the way config managers do it (write + rename).
    let stop = false;
    const load = Promise.all(
      tunnels.map(async (t, i) => {
        let rounds = 0;
        while (!stop) {
          const data = body(2048, `t${i}-${rounds++}`);
          const back = await echo(t.socket, data);
          if (!back.equals(data)) throw new Error(`tunnel ${i} corrupted data`);
        }
        return rounds;
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    await writeFile(join(dir, 'next.yaml'), yamlAllowing('new.test', tcp.port));
    await rename(join(dir, 'next.yaml'), file);
    await waitFor(() => notices.length > 0, 10_000, 'reload notice');
    await new Promise((r) => setTimeout(r, 200));
    stop = true;
    const rounds = await load;
    expect(notices[0]).toEqual(['reload: policies reloaded', true]);
    expect(rounds.every((n) => n >= 2)).toBe(true);
    expect(closed).toBe(0);
    expect(running.proxy.stats.tunnels).toBe(200);

    // New requests follow the new policy.
    const oldNow = await connectVia(port, `old.test:${tcp.port}`);
    expect(oldNow.status).toBe(403);
    oldNow.socket.destroy();
    const newNow = await connectVia(port, `new.test:${tcp.port}`);
    expect(newNow.status).toBe(200);
    newNow.socket.destroy();

    // An invalid file is refused loudly and the running policy stays.
    await writeFile(file, 'policies:\n  p:\n    mode: enforcing\n');
    await waitFor(() => notices.length > 1, 10_000, 'refused reload notice');
    expect(notices[1]![1]).toBe(false);
    expect(notices[1]![0]).toContain('REFUSED');
    expect(notices[1]![0]).toContain('/policies/p/mode');
    expect(log.lines.some((l) => 'event' in l && l.event === 'config_reload' && !l.ok)).toBe(true);
    const still = await connectVia(port, `new.test:${tcp.port}`);
    expect(still.status).toBe(200);
    still.socket.destroy();

    // The explicit reload (what SIGHUP calls) refuses the same file.
    expect(running.reload()).toBe(false);
    const data = body(100);
    expect((await echo(tunnels[199]!.socket, data)).equals(data)).toBe(true);
    for (const t of tunnels) t.socket.destroy();
    await running.stop(2000);
    expect(dialer.violations).toEqual([]);
  });
});

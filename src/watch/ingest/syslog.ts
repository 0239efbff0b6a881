import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { type IngestQueue, QueueFullError } from './queue.js';
import { parseSyslog, SyslogFramer } from './syslog-parse.js';
import { freshId, type IngestEvent } from './types.js';

export interface SyslogOptions {
  host?: string;
  udpPort?: number;
  tcpPort?: number;
  tls?: { port: number; certFile: string; keyFile: string; caFile?: string; requireClientCert?: boolean };
  /** Largest message (default 64 KiB; RFC 5425 receivers must take 2 KiB, 8 KiB is common). */
  maxMessageBytes?: number;
  queue: IngestQueue;
  now?: () => number;
}

export interface SyslogListeners {
  udpPort?: number;
  tcpPort?: number;
  tlsPort?: number;
  stats: { received: number; droppedUdp: number; badFrames: number };
  close(): Promise<void>;
}

/**
 * Syslog over UDP (one message per datagram; dropped and counted when the queue is full: UDP has no
 * backpressure), TCP and TLS (RFC 6587 framing; the socket is paused while the queue is full, which pushes back
 * to the sender through TCP flow control).
 */
export async function startSyslog(options: SyslogOptions): Promise<SyslogListeners> {
  const host = options.host ?? '127.0.0.1';
  const max = options.maxMessageBytes ?? 64 * 1024;
  const now = options.now ?? Date.now;
  const { queue } = options;
  const stats = { received: 0, droppedUdp: 0, badFrames: 0 };
  const toEvent = (raw: string, peer: string): IngestEvent => {
    const at = now();
    const rec = parseSyslog(raw, at);
    return {
      id: freshId('syslog'),
      source: 'syslog',
      time: rec.timestamp ? Date.parse(rec.timestamp) : at,
      receivedAt: at,
      data: { ...rec, peer },
    };
  };
  const sockets = new Set<Socket>();

  const onStream = (socket: Socket) => {
    sockets.add(socket);
    const framer = new SyslogFramer(max);
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    let chain: Promise<void> = Promise.resolve();
    const deliver = (events: IngestEvent[]) => {
      if (events.length === 0) return;
      stats.received += events.length;
      chain = chain.then(async () => {
        for (;;) {
          try {
            await queue.offer(events);
            return;
          } catch (err) {
            if (!(err instanceof QueueFullError)) throw err;
            await once(queue, 'drain');
          }
        }
      });
      chain.catch(() => socket.destroy());
      if (!queue.hasRoom()) {
        socket.pause();
        queue.once('drain', () => socket.resume());
      }
    };
    socket.on('data', (chunk: Buffer) => {
      try {
        deliver(framer.push(chunk).map((m) => toEvent(m, peer)));
      } catch {
        stats.badFrames++;
        socket.destroy();
      }
    });
    socket.on('end', () => deliver(framer.end().map((m) => toEvent(m, peer))));
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };

  const servers: Server[] = [];
  const listen = async (server: Server, port: number) => {
    servers.push(server);
    server.listen(port, host);
    await once(server, 'listening');
    return (server.address() as { port: number }).port;
  };
  const result: SyslogListeners = { stats, close: async () => undefined };
  if (options.tcpPort !== undefined) result.tcpPort = await listen(createServer(onStream), options.tcpPort);
  if (options.tls) {
    const t = options.tls;
    const server = createTlsServer(
      {
        cert: readFileSync(t.certFile),
        key: readFileSync(t.keyFile),
        ...(t.caFile ? { ca: readFileSync(t.caFile) } : {}),
        requestCert: t.requireClientCert ?? false,
        rejectUnauthorized: t.requireClientCert ?? false,
      },
      onStream,
    );
    server.on('tlsClientError', () => undefined);
    result.tlsPort = await listen(server, t.port);
  }
  let udp: UdpSocket | undefined;
  if (options.udpPort !== undefined) {
    udp = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      stats.received++;
      if (msg.length > max || !queue.hasRoom()) {
        stats.droppedUdp++;
        return;
      }
      const text = msg.toString('utf8').replace(/\r?\n$/, '');
      queue.offer([toEvent(text, `${rinfo.address}:${rinfo.port}`)]).catch(() => {
        stats.droppedUdp++;
      });
    });
    udp.bind(options.udpPort, host);
    await once(udp, 'listening');
    result.udpPort = udp.address().port;
  }
  result.close = async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
  };
  return result;
}

/**
 * One message size limit both ways, on every transport, in real browsers (the script-tag bundle, dist/): at limit-1
 * and limit bytes a message travels client → server and server → client; at limit+1 the client's `emit` throws
 * `payload_too_large` and the server's `session.emit` throws `RealtimeServerError('payload_too_large')`, nothing is
 * delivered, and the connection stays healthy (a small message follows, no resync, no transport failure). Size: UTF-8
 * bytes of `JSON.stringify({ e, d })`. A 64 KiB limit in every browser; the 1 MiB default in Chromium.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRealtimeServer, RealtimeServerError, type RealtimeServer, type Session } from '../../../src/server';
import { browsersUnderTest, launchBrowser, type BrowserName, type TestBrowser, type TestPage } from '../../support/browsers';

const bundle = readFileSync(new URL('../../../dist/realtime-fallback.umd.min.js', import.meta.url), 'utf8');

/** Records what arrives and every lifecycle event that would mean the connection was not healthy. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>size</title><link rel="icon" href="data:,">
<script src="/rf.js"></script>
<script>
  const enc = new TextEncoder();
  window.size = (e, d) => enc.encode(JSON.stringify({ e, d })).length;
  window.sized = (e, n) => 'x'.repeat(n - window.size(e, ''));
  window.log = { got: [], trouble: [] };
  window.start = (transport) => new Promise((resolve, reject) => {
    const client = new RealtimeFallback.RealtimeClient(location.origin + '/realtime', { transports: [transport], backoff: { initialMs: 50, maxMs: 200 } });
    window.client = client;
    for (const e of ['down', 'after']) client.on(e, (d) => log.got.push([e, window.size(e, d)]));
    for (const type of ['transportFailed', 'resync', 'reconnecting', 'error', 'close']) {
      client.lifecycle.on(type, (x) => log.trouble.push(type + ': ' + (x && (x.failure ? x.failure.message : x.reason || x.message || x.code)) ));
    }
    client.lifecycle.on('open', () => resolve(client.sessionId));
    setTimeout(() => reject(new Error('not open after 8 s: ' + client.state)), 8000);
  });
  /** Emits a message of n bytes; answers the error code it threw, or null. */
  window.emitSized = (e, n) => {
    try {
      client.emit(e, window.sized(e, n));
      return null;
    } catch (err) {
      return err.code || String(err);
    }
  };
</script>`;

interface SizeServer {
  origin: string;
  rt: RealtimeServer;
  /** Per session id: [event, UTF-8 bytes of {e, d}] of what the server's handlers got. */
  got: Map<string, [string, number][]>;
  close(): Promise<void>;
}

async function startSizeServer(maxMessageBytes: number | undefined): Promise<SizeServer> {
  const warnings: unknown[] = [];
  const rt = createRealtimeServer({
    heartbeatMs: 20_000,
    ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
    logger: { debug() {}, warn: (...a: unknown[]) => void warnings.push(a), error: (...a: unknown[]) => void warnings.push(a) },
  });
  const got = new Map<string, [string, number][]>();
  rt.on('connection', (session: Session) => {
    const list: [string, number][] = [];
    got.set(session.id, list);
    for (const e of ['up', 'after']) session.on(e, (d) => void list.push([e, Buffer.byteLength(JSON.stringify({ e, d }))]));
  });
  const sockets = new Set<Socket>();
  const http: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (rt.handler(req, res)) return;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/rf.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    if (path === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    res.writeHead(404).end();
  });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!rt.handleUpgrade(req, socket, head)) socket.destroy();
  });
  http.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    rt,
    got,
    async close() {
      await rt.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => http.close(resolve));
      expect(warnings, 'server warnings and errors').toEqual([]);
    },
  };
}

const sizedData = (e: string, n: number): string => 'x'.repeat(n - Buffer.byteLength(JSON.stringify({ e, d: '' })));

type Log = { got: [string, number][]; trouble: string[] };
const readLog = (page: TestPage): Promise<Log> => page.evaluate(() => (window as unknown as { log: Log }).log);

/** Both directions at limit-1, limit and limit+1 on one transport; the connection stays healthy throughout. */
async function checkBothWays(browser: TestBrowser, server: SizeServer, transport: string, limit: number): Promise<void> {
  const page = await browser.newPage();
  try {
    await page.goto(`${server.origin}/`);
    const sid = await page.evaluate((t: string) => (window as unknown as { start(t: string): Promise<string> }).start(t), transport);
    const session = server.rt.session(sid)!;
    expect(session.transport).toBe(transport);
    // One at a time: the outbox holds maxQueuedBytes (1 MiB by default) of unacknowledged emits, or one frame of the
    // limit, so two messages of the 1 MiB limit in a row would meet outbox_full, as documented.
    const emitSized = async (n: number): Promise<string | null> => {
      const code = await page.evaluate((n: number) => (window as unknown as { emitSized(e: string, n: number): string | null }).emitSized('up', n), n);
      await page.waitFor(() => (window as unknown as { client: { queued: { messages: number } } }).client.queued.messages === 0, undefined, { timeout: 20_000, what: 'the emit acknowledged' });
      return code;
    };

    // client → server
    expect(await emitSized(limit - 1)).toBeNull();
    expect(await emitSized(limit)).toBeNull();
    expect(await emitSized(limit + 1)).toBe('payload_too_large');
    await page.evaluate(() => (window as unknown as { client: { emit(e: string, d: string): void } }).client.emit('after', 'small'));
    const list = server.got.get(sid)!;
    await until(() => list.length === 3, 20_000, () => `the server got ${JSON.stringify(list)}`);
    expect(list).toEqual([['up', limit - 1], ['up', limit], ['after', Buffer.byteLength(JSON.stringify({ e: 'after', d: 'small' }))]]);

    // server → client
    session.emit('down', sizedData('down', limit - 1));
    session.emit('down', sizedData('down', limit));
    const held = session.unacknowledged;
    let refused: unknown;
    try {
      session.emit('down', sizedData('down', limit + 1));
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(RealtimeServerError);
    expect((refused as RealtimeServerError).code).toBe('payload_too_large');
    expect((refused as RealtimeServerError).message).toContain(`${limit + 1} bytes`);
    expect(session.unacknowledged).toBe(held); // nothing queued
    session.emit('after', 'small');
    await page.waitFor(() => (window as unknown as { log: Log }).log.got.length >= 3, undefined, { timeout: 20_000, what: 'the messages' });
    const log = await readLog(page);
    expect(log.got).toEqual([['down', limit - 1], ['down', limit], ['after', Buffer.byteLength(JSON.stringify({ e: 'after', d: 'small' }))]]);
    expect(log.trouble).toEqual([]); // no resync, no transport failure, no reconnect
    expect(session.transport).toBe(transport);
  } finally {
    await page.close();
  }
}

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const SMALL = 64 * 1024;
const TRANSPORTS = ['websocket', 'sse', 'polling'] as const;

describe.each(browsersUnderTest())('message size limit in %s (UMD bundle)', (name: BrowserName) => {
  let browser: TestBrowser;
  let small: SizeServer;
  let standard: SizeServer | undefined;

  beforeAll(async () => {
    small = await startSizeServer(SMALL);
    if (name === 'chromium') standard = await startSizeServer(undefined);
    browser = await launchBrowser(name);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await small?.close();
    await standard?.close();
  });

  it.each(TRANSPORTS)(`maxMessageBytes ${SMALL}: limit-1, limit and limit+1 both ways over %s`, async (transport) => {
    await checkBothWays(browser, small, transport, SMALL);
  }, 60_000);

  if (name === 'chromium') {
    it.each(TRANSPORTS)('the 1 MiB default: limit-1, limit and limit+1 both ways over %s', async (transport) => {
      await checkBothWays(browser, standard!, transport, 1024 * 1024);
    }, 60_000);
  }
});

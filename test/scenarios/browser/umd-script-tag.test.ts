/**
 * The script-tag build in real Chromium, Firefox and WebKit (test/support/browsers; `BROWSERS` picks a subset): `dist/realtime-fallback.umd.min.js` loaded by a <script> tag, used through
 * the global `RealtimeFallback`, against the reference server, on each transport with the browser's own
 * WebSocket, EventSource and fetch. `npm test` builds dist/ before the tests run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type RealtimeServer } from '../../../src/server';
import { browsersUnderTest, launchBrowser, type TestBrowser } from '../../support/browsers';

const bundle = readFileSync(new URL('../../../dist/realtime-fallback.umd.min.js', import.meta.url), 'utf8');
const page = `<!doctype html><meta charset="utf-8"><title>umd</title><link rel="icon" href="data:,">
<script src="/realtime-fallback.umd.min.js"></script>
<script>
  window.run = async (transport) => {
    const client = new RealtimeFallback.RealtimeClient(location.origin + '/realtime', { transports: [transport] });
    const got = [];
    client.on('tick', (n) => got.push(n));
    await new Promise((resolve, reject) => {
      client.lifecycle.on('open', resolve);
      client.lifecycle.on('close', (e) => reject(new Error(e.reason)));
    });
    client.emit('say', 'hello from ' + transport);
    const echoed = await client.request('echo', { transport }, { timeout: 5000 });
    while (got.length < 3) await new Promise((r) => setTimeout(r, 20));
    const result = { transport: client.transport, echoed, got: got.slice(0, 3), isError: new RealtimeFallback.RealtimeError('timeout', 'x') instanceof Error };
    client.close();
    return result;
  };
</script>`;

let http: Server;
let rt: RealtimeServer;
let origin: string;
const said: string[] = [];

beforeAll(async () => {
  http = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
    else if (req.url === '/realtime-fallback.umd.min.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
    else res.writeHead(404).end();
  });
  rt = createRealtimeServer({ server: http, path: '/realtime', logger: { debug() {}, warn() {}, error() {} } });
  rt.on('connection', (session) => {
    session.on('say', (text) => {
      said.push(String(text));
    });
    session.on('echo', (data, reply) => reply(data));
    for (let n = 1; n <= 3; n++) session.emit('tick', n);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await rt?.close();
  await new Promise((resolve) => http?.close(resolve));
});

describe.each(browsersUnderTest())('UMD bundle from a <script> tag in %s', (name) => {
  let browser: TestBrowser;
  beforeAll(async () => {
    browser = await launchBrowser(name);
  }, 60_000);
  afterAll(() => browser?.close());

  it.each(['websocket', 'sse', 'polling'] as const)('works over %s', async (transport) => {
    const tab = await browser.newPage();
    await tab.goto(origin + '/');
    const result = await tab.evaluate((t) => (window as unknown as { run(t: string): Promise<unknown> }).run(t), transport);
    expect(await tab.errors()).toEqual([]);
    await tab.close();
    expect(result).toEqual({ transport, echoed: { transport }, got: [1, 2, 3], isError: true });
    expect(said).toContain(`hello from ${transport}`);
  });
});

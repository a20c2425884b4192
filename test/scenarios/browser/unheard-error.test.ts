/**
 * The README's first example, misconfigured the commonest way (Chromium only: what its console shows): the page on
 * one origin, the realtime server on another loopback port without `cors.origins`. The app listens for no error, yet
 * the console shows one line naming `origin_rejected` and what to change, once, not an empty console.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRealtimeServer, type RealtimeServer } from '../../../src/server';
import { launchBrowser, pageFaults, type TestBrowser } from '../../support/browsers';

const bundle = readFileSync(new URL('../../../dist/realtime-fallback.umd.min.js', import.meta.url), 'utf8');
// The README's first example, no lifecycle listener at all.
const page = `<!doctype html><meta charset="utf-8"><title>misconfigured</title>
<script src="/realtime-fallback.umd.min.js"></script>
<script>
  window.start = (endpoint) => {
    const client = new RealtimeFallback.RealtimeClient(endpoint);
    client.on('chat', (msg) => console.log(msg));
    client.emit('say', 'hi');
    window.client = client;
  };
</script>`;

const listen = async (server: Server): Promise<string> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

describe('a cross-origin page the server does not allow, in Chromium', () => {
  let pages: Server;
  let api: Server;
  let rt: RealtimeServer;
  let browser: TestBrowser;
  let pageOrigin: string;
  let apiOrigin: string;

  beforeAll(async () => {
    pages = createServer((req, res) => {
      if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
      else if (req.url === '/realtime-fallback.umd.min.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(bundle);
      else res.writeHead(404).end();
    });
    pageOrigin = await listen(pages);
    // No cors option: only the server's own origin is allowed.
    rt = createRealtimeServer({ logger: { debug() {}, warn() {}, error() {} } });
    api = createServer((req, res) => {
      if (!rt.handler(req, res)) res.writeHead(404).end();
    });
    api.on('upgrade', (req, socket, head) => rt.handleUpgrade(req, socket, head));
    apiOrigin = await listen(api);
    browser = await launchBrowser('chromium');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await rt?.close();
    for (const s of [pages, api]) {
      s?.closeAllConnections();
      await new Promise((resolve) => s?.close(resolve));
    }
  });

  it('the console shows one error naming origin_rejected and the option to set; the client stops', async () => {
    const tab = await browser.newPage();
    await tab.goto(pageOrigin + '/');
    await tab.evaluate((endpoint) => (window as unknown as { start(e: string): void }).start(endpoint), `${apiOrigin}/realtime`);
    await tab.waitFor(() => (window as unknown as { client: { state: string } }).client.state === 'closed', undefined, { what: 'closed' });
    // Chromium prints the refused requests itself (network lines); the rest is what the page wrote.
    const lines = pageFaults('chromium', await tab.errors());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^realtime-fallback: unhandled origin_rejected .*RealtimeError: the server refused this page's origin/s);
    expect(lines[0]).toContain(`origin ${pageOrigin} is not allowed by this server: add it to the server's cors.origins option`);
    expect(lines[0]).toContain("client.lifecycle.on('error'");
    console.log(`[e2e chromium] console for a refused origin: ${JSON.stringify(lines)}`);
  });
});

/**
 * The built package works in Node 20: `dist/index.mjs` (the client, with `ws` injected and event-source-polyfill
 * loaded by the package itself) against `dist/server.mjs` (the server, owning its http server through `listen()`).
 *
 * NOTE: `npm test` (scripts/test.mjs) runs `npm run build` before vitest, so dist/ is fresh there. Running vitest
 * directly uses whatever dist/ holds; without a build this test fails and says so.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import type * as ClientPackage from '../../../src/index';
import type * as ServerPackage from '../../../src/server/index';
import type { WebSocketConstructor } from '../../../src/transports/environment';
import { waitUntil } from './harness';

const clientEntry = new URL('../../../dist/index.mjs', import.meta.url);
const serverEntry = new URL('../../../dist/server.mjs', import.meta.url);

const disposers: (() => unknown)[] = [];
afterEach(async () => {
  for (const d of disposers.splice(0).reverse()) await d();
});

it('dist/index.mjs and dist/server.mjs round-trip over every transport in Node 20', async () => {
  for (const entry of [clientEntry, serverEntry]) {
    expect(existsSync(fileURLToPath(entry)), `${fileURLToPath(entry)} missing: run \`npm run build\` (npm test does)`).toBe(true);
  }
  // Imported by URL so the compiled files are what runs (and tsc does not look for .d.mts files).
  const { RealtimeClient, RealtimeError } = (await import(/* @vite-ignore */ clientEntry.href)) as typeof ClientPackage;
  const { createRealtimeServer } = (await import(/* @vite-ignore */ serverEntry.href)) as typeof ServerPackage;

  const quiet = { debug: () => {}, warn: () => {}, error: () => {} };
  const rt = createRealtimeServer({ heartbeatMs: 500, logger: quiet });
  disposers.push(() => rt.close());
  const port = await rt.listen(0, '127.0.0.1');
  const upByTransport: Record<string, unknown[]> = {};
  rt.on('connection', (session) => {
    session.on('echo', (d, reply) => reply(d));
    session.on('up', (d) => void (upByTransport[(d as { via: string }).via] ??= []).push(d));
    session.on('hello', (_d, reply) => {
      session.emit('greeting', { to: session.id });
      reply('ok');
    });
  });

  for (const transport of ['websocket', 'sse', 'polling'] as const) {
    const client = new RealtimeClient<{ greeting: { to: string } }, { up: { via: string } }>(`http://127.0.0.1:${port}/realtime`, {
      transports: [transport],
      WebSocket: NodeWebSocket as unknown as WebSocketConstructor,
      storage: null,
    });
    disposers.push(() => client.close());
    const greetings: { to: string }[] = [];
    client.on('greeting', (g) => void greetings.push(g));

    await expect(client.request('echo', { transport })).resolves.toEqual({ transport });
    await expect(client.request('hello')).resolves.toBe('ok');
    expect(greetings).toEqual([{ to: client.sessionId }]);
    client.emit('up', { via: transport });
    await waitUntil(() => upByTransport[transport]?.length === 1, 5000, `the emit over ${transport}`);
    expect(client.transport).toBe(transport);

    client.close();
    expect(client.pendingTimers).toBe(0);
    expect(() => client.emit('up', { via: transport })).toThrow(RealtimeError);
  }
});

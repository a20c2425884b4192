/**
 * Node usage of the SSE transport with event-source-polyfill: a dropped event stream must not leave an unhandled
 * promise rejection behind (Node 20 terminates the process on one by default).
 *
 * Known failure (client): on a dropped stream the polyfill dispatches `error` while its fetch reader is errored;
 * SseTransport's error handler closes the source, the polyfill's abort() calls `reader.cancel()` without a catch
 * (event-source-polyfill src/eventsource.js:571) and that promise rejects with undici's "TypeError: terminated".
 * Vitest reports those as "Unhandled Errors" of this file too.
 */
import { afterEach, expect, it } from 'vitest';
import { cleanup, connectClient, startHarness, waitUntil, whenOpen } from './harness';

afterEach(cleanup);

it('sse: a dropped event stream leaves no unhandled promise rejection behind', async () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => void rejections.push(reason);
  process.on('unhandledRejection', onRejection);
  try {
    const h = await startHarness();
    const { client, of } = await connectClient(h.base, { transports: ['sse'] });
    await whenOpen(client, 'sse');
    for (let k = 1; k <= 3; k++) {
      await waitUntil(() => h.inFlight().requests > 0, 2000, 'the event stream to be held open');
      h.killConnections();
      await waitUntil(() => of('open').length > k, 5000, `reopen ${k}`);
    }
    await expect(client.request('nothing', null).catch((e: { code?: string }) => e.code)).resolves.toBe('server_error');
    await new Promise((r) => setTimeout(r, 50)); // unhandled rejections are reported after a macrotask turn
    expect(rejections.map(String)).toEqual([]);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
});

/**
 * Which reader the SSE transport takes: a native EventSource when it serves, fetch with our parser when headers must
 * be sent (or there is no EventSource), and event-source-polyfill, loaded then and only then, when there is no fetch.
 * `vi.mock`'s factory runs when the module is first imported, so counting its runs counts real loads of the module.
 * Tests in this file run in order and share the module registry: the first ones must see zero loads.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import type { EventSourcePolyfill } from 'event-source-polyfill';
import type { EventSourceConstructor, EventSourceInitLike, EventSourceLike, MessageEventLike } from '../../src/transports/environment';
import { SseTransport } from '../../src/transports/sse';
import { params, Recorder, RecordingSchedule, until, welcome } from './helpers';

const loads = vi.hoisted(() => ({ count: 0 }));
vi.mock('event-source-polyfill', async (importOriginal) => {
  loads.count++;
  return importOriginal();
});

// Compile-time: the DOM's EventSource and the polyfill's class both fit the injectable constructor type.
const _domFits: EventSourceConstructor | undefined = (globalThis as { EventSource?: typeof EventSource }).EventSource;
// (A value import of the polyfill here would load it at once and defeat the test: keep it `import type`.)
const _polyfillFits: typeof EventSourcePolyfill extends EventSourceConstructor ? true : false = true;
void _domFits;
void _polyfillFits;

/** A stand-in for a browser's native EventSource: records construction, never touches the network. */
class NativeLike implements EventSourceLike {
  static created: { url: string; init: EventSourceInitLike | undefined }[] = [];
  readyState = 0;
  private listeners = new Map<string, ((e: MessageEventLike) => void)[]>();
  constructor(url: string, init?: EventSourceInitLike) {
    NativeLike.created.push({ url, init });
  }
  addEventListener(type: string, listener: (e: MessageEventLike) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  removeEventListener(type: string, listener: (e: MessageEventLike) => void): void {
    this.listeners.set(type, (this.listeners.get(type) ?? []).filter((l) => l !== listener));
  }
  close(): void {
    this.readyState = 2;
  }
  emit(type: string, data?: string): void {
    for (const l of this.listeners.get(type) ?? []) l({ type, data });
  }
}

const E = 'http://rt.test/rt';
const seenHeaders: Headers[] = [];
const server = setupServer(
  http.get(`${E}/sse`, ({ request }) => {
    seenHeaders.push(request.headers);
    return new HttpResponse(`data: ${JSON.stringify(welcome())}\n\n`, { headers: { 'Content-Type': 'text/event-stream' } });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

it('with a native EventSource and no headers, the polyfill module is never loaded', async () => {
  const rec = new Recorder();
  const t = new SseTransport(params(E, rec, new RecordingSchedule(), { withCredentials: true }), {
    EventSource: NativeLike,
  });
  t.connect();
  expect(NativeLike.created).toHaveLength(1);
  expect(NativeLike.created[0]?.init?.withCredentials).toBe(true);
  expect(NativeLike.created[0]?.init?.headers).toBeUndefined();
  await new Promise((r) => setTimeout(r, 20));
  expect(loads.count).toBe(0);
  t.close();
});

it('a native error event (no status) is a network failure and the source is closed', () => {
  const created: NativeLike[] = [];
  class Capturing extends NativeLike {
    constructor(url: string, init?: EventSourceInitLike) {
      super(url, init);
      created.push(this);
    }
  }
  const rec = new Recorder();
  const t = new SseTransport(params(E, rec, new RecordingSchedule()), { EventSource: Capturing });
  t.connect();
  created[0]?.emit('message', JSON.stringify(welcome()));
  created[0]?.emit('error');
  created[0]?.emit('message', JSON.stringify({ t: 'ping' })); // a native source would reconnect; we ignore it
  expect(rec.types()).toEqual(['welcome']);
  expect(rec.failures).toEqual([{ kind: 'network', message: 'SSE connection error' }]);
  expect(created[0]?.readyState).toBe(2);
  expect(loads.count).toBe(0);
  t.close();
});

it('with no EventSource at all (Node 20) and no headers, fetch and our parser read the stream; no polyfill', async () => {
  expect((globalThis as { EventSource?: unknown }).EventSource).toBeUndefined();
  const rec = new Recorder();
  const t = new SseTransport(params(E, rec, new RecordingSchedule()));
  t.connect();
  await until(() => rec.frames.length === 1, 3000, 'welcome through fetch');
  expect(rec.frames[0]).toEqual(welcome());
  expect(seenHeaders.at(-1)?.get('Accept')).toBe('text/event-stream');
  expect(loads.count).toBe(0);
  t.close();
});

it('with custom headers, fetch and our parser read the stream: the headers go out, no EventSource is made', async () => {
  const before = NativeLike.created.length;
  const rec = new Recorder();
  const t = new SseTransport(params(E, rec, new RecordingSchedule(), { headers: { Authorization: 'Bearer t' } }), {
    EventSource: NativeLike,
  });
  t.connect();
  await until(() => rec.frames.length === 1, 3000, 'welcome through fetch');
  expect(rec.frames[0]).toEqual(welcome());
  expect(seenHeaders.at(-1)?.get('Authorization')).toBe('Bearer t');
  expect(seenHeaders.at(-1)?.get('Accept')).toBe('text/event-stream');
  expect(NativeLike.created.length).toBe(before);
  expect(loads.count).toBe(0);
  t.close();
});

it('with neither EventSource nor fetch, close() before the polyfill finished loading opens nothing and reports nothing', async () => {
  vi.stubGlobal('fetch', undefined);
  try {
    let resolve: ((ctor: EventSourceConstructor) => void) | undefined;
    let asked = 0;
    const rec = new Recorder();
    const t = new SseTransport(params(E, rec, new RecordingSchedule(), { headers: { A: 'b' } }), {
      loadEventSourcePolyfill: () => {
        asked++;
        return new Promise((r) => (resolve = r));
      },
    });
    t.connect();
    expect(asked).toBe(1);
    t.close();
    resolve?.(NativeLike);
    const before = NativeLike.created.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(NativeLike.created.length).toBe(before);
    expect(rec.failures).toEqual([]);
  } finally {
    vi.unstubAllGlobals();
  }
});

it('with neither EventSource nor fetch, the polyfill module is loaded on demand, once, and given the headers', async () => {
  vi.stubGlobal('fetch', undefined);
  try {
    const rec = new Recorder();
    const t = new SseTransport(params(E, rec, new RecordingSchedule(), { headers: { Authorization: 'Bearer t' } }));
    t.connect();
    await until(() => loads.count === 1, 3000, 'the polyfill module loaded');
    // Node has no XMLHttpRequest for the polyfill to read with: it fails, and says so once.
    await until(() => rec.failures.length === 1, 3000, 'the failure');
    expect(rec.failures[0]?.kind).toBe('network');
    t.close();
    const again = new SseTransport(params(E, new Recorder(), new RecordingSchedule(), { headers: { Authorization: 'Bearer t' } }));
    again.connect();
    await new Promise((r) => setTimeout(r, 20));
    expect(loads.count).toBe(1);
    again.close();
  } finally {
    vi.unstubAllGlobals();
  }
});

/**
 * SseTransport against msw handlers, with event-source-polyfill as the EventSource (Node 20 has none).
 *
 * The polyfill copies `globalThis.fetch` into a local variable when its module is evaluated
 * (`var fetch = global.fetch;` at the top of src/eventsource.js). It must therefore be loaded after
 * `server.listen()` patched fetch, or its requests bypass msw: hence the dynamic import in `beforeAll`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import type { ClientFrame, ServerFrame } from '../../src/protocol/frames';
import {
  loadEventSourcePolyfill,
  type EventSourceConstructor,
  type EventSourceInitLike,
  type EventSourceLike,
  type FetchFn,
  type TransportEnvironment,
} from '../../src/transports/environment';
import { SseTransport } from '../../src/transports/sse';
import type { TransportConnectParams } from '../../src/transports/transport';
import { params, Recorder, RecordingSchedule, settle, until, welcome } from './helpers';
import { ManualClock } from '../client/realtime-client/manual-clock';

const E = 'http://rt.test/rt';
const server = setupServer();
let Polyfill: EventSourceConstructor;
/** Every EventSource the transports created, to check they were closed. */
const sources: EventSourceLike[] = [];

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  const Real = await loadEventSourcePolyfill();
  Polyfill = class extends Real {
    constructor(url: string, init?: EventSourceInitLike) {
      super(url, init);
      sources.push(this);
    }
  };
});
afterEach(() => {
  server.resetHandlers();
  vi.restoreAllMocks();
});
afterAll(() => server.close());

/** A `text/event-stream` body the test writes to. */
function eventStream() {
  const enc = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
  });
  return {
    stream,
    raw(text: string) {
      try {
        controller?.enqueue(enc.encode(text));
      } catch {
        // The reader went away (the transport closed); the test checks what the transport reported instead.
      }
    },
    frame(f: ServerFrame) {
      const id = f.t === 'msg' || f.t === 'reply' ? `id: ${f.id}\n` : '';
      this.raw(`${id}data: ${JSON.stringify(f)}\n\n`);
    },
    end() {
      controller?.close();
    },
  };
}

interface Harness {
  rec: Recorder;
  schedule: RecordingSchedule;
  transport: SseTransport;
  sseRequests: Request[];
  posts: { url: URL; body: unknown; contentType: string | null; headers: Headers; signal: AbortSignal | undefined }[];
  stream: ReturnType<typeof eventStream>;
}

/** Serves one event stream on E/sse; records POSTs (their answers come from `answerPost`). */
function harness(
  opts: {
    extra?: Partial<TransportConnectParams>;
    env?: TransportEnvironment;
    answerPost?: (frames: ClientFrame[], n: number) => Promise<Response> | Response;
  } = {},
): Harness {
  const stream = eventStream();
  const sseRequests: Request[] = [];
  const posts: Harness['posts'] = [];
  const signals: (AbortSignal | undefined)[] = [];
  server.use(
    http.get(`${E}/sse`, ({ request }) => {
      sseRequests.push(request);
      return new HttpResponse(stream.stream, { headers: { 'Content-Type': 'text/event-stream' } });
    }),
    http.post(`${E}/send`, async ({ request }) => {
      const body = (await request.json()) as ClientFrame[];
      const n = posts.length;
      posts.push({ url: new URL(request.url), body, contentType: request.headers.get('Content-Type'), headers: request.headers, signal: signals[n] });
      if (opts.answerPost) return opts.answerPost(body, n);
      const last = [...body].reverse().find((f) => f.t === 'emit' || f.t === 'req');
      return HttpResponse.json([{ t: 'ack', n: last && 'seq' in last ? last.seq : 0 }]);
    }),
  );
  const rec = new Recorder();
  const schedule = new RecordingSchedule();
  // Records the AbortSignal of every upstream POST.
  const fetchSpy: FetchFn = (input, init) => {
    signals.push(init?.signal ?? undefined);
    return globalThis.fetch(input, init);
  };
  const transport = new SseTransport(params(E, rec, schedule, opts.extra), {
    EventSource: Polyfill,
    fetch: fetchSpy,
    ...opts.env,
  });
  return { rec, schedule, transport, sseRequests, posts, stream };
}

describe('SseTransport', () => {
  it('opens E/sse with the query, the resume secret in a header, and passes welcome and frames through in order', async () => {
    const h = harness({ extra: { query: { v: '1', sid: 'S0', last: '2' }, hidden: { secret: 'K0' } } });
    expect(h.transport.name).toBe('sse');
    h.transport.connect();
    h.stream.raw('retry: 2000\n\n');
    h.stream.frame(welcome({ resumed: true }));
    h.stream.frame({ t: 'msg', id: 3, e: 'a', d: [1] });
    h.stream.raw(': comment line\n\n');
    h.stream.frame({ t: 'ping' });
    h.stream.frame({ t: 'msg', id: 4, e: 'b' });
    await until(() => h.rec.frames.length === 4, 3000, 'four frames');
    expect(h.rec.types()).toEqual(['welcome', 'msg', 'ping', 'msg']);
    expect(h.rec.frames[1]).toEqual({ t: 'msg', id: 3, e: 'a', d: [1] });
    const url = new URL(h.sseRequests[0]?.url ?? '');
    expect(url.pathname).toBe('/rt/sse');
    expect(url.searchParams.toString()).toBe('v=1&sid=S0&last=2');
    expect(h.sseRequests[0]?.headers.get('X-Realtime-Secret')).toBe('K0');
    expect(h.sseRequests[0]?.headers.get('Accept')).toBe('text/event-stream');
    expect(h.rec.failures).toEqual([]);
    h.transport.close();
  });

  it('reports an invalid frame as a protocol failure, closes, and delivers nothing after it', async () => {
    const h = harness();
    h.transport.connect();
    h.stream.frame(welcome());
    h.stream.raw('data: {"t":"bogus"}\n\n');
    h.stream.frame({ t: 'ping' });
    await until(() => h.rec.failures.length === 1, 3000, 'failure');
    expect(h.rec.failures[0]?.kind).toBe('protocol');
    await settle();
    expect(h.rec.types()).toEqual(['welcome']);
    expect(h.rec.failures).toHaveLength(1);
  });

  it('close() stops all callbacks, cancels the stream and leaves no scheduled callback', async () => {
    const h = harness();
    h.transport.connect();
    h.stream.frame(welcome());
    await until(() => h.rec.frames.length === 1, 3000, 'welcome');
    h.transport.close();
    expect(sources.at(-1)?.readyState).toBe(2); // the polyfill's CLOSED
    h.stream.frame({ t: 'ping' });
    await settle();
    expect(h.rec.types()).toEqual(['welcome']);
    expect(h.rec.failures).toEqual([]);
    expect(h.schedule.pending.size).toBe(0);
  });

  it('a stream that ends is a network failure, and the EventSource does not reconnect by itself', async () => {
    const h = harness();
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    h.transport.connect();
    h.stream.raw('retry: 1000\n\n'); // the polyfill's shortest reconnect delay
    h.stream.frame(welcome());
    h.stream.end();
    await until(() => h.rec.failures.length === 1, 3000, 'failure');
    expect(h.rec.failures[0]?.kind).toBe('network');
    await settle(1300); // longer than the 1000 ms the EventSource would wait before reconnecting
    expect(h.sseRequests).toHaveLength(1);
    expect(h.rec.failures).toHaveLength(1);
  });

  it.each([
    [401, undefined, undefined],
    [500, undefined, undefined],
    [503, '7', 7],
  ])('an HTTP %i answer is an http failure (status from the polyfill error event)', async (status, header, retryAfter) => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let requests = 0;
    server.use(
      http.get(`${E}/sse`, () => {
        requests++;
        return new HttpResponse('nope', { status, headers: header === undefined ? {} : { 'Retry-After': header } });
      }),
    );
    const rec = new Recorder();
    const t = new SseTransport(params(E, rec, new RecordingSchedule()), { EventSource: Polyfill });
    t.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]).toMatchObject({ kind: 'http', status });
    expect(rec.failures[0]?.retryAfter).toBe(retryAfter);
    await settle();
    expect(requests).toBe(1);
  });

  it('a 200 that is not text/event-stream is a content_type failure', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    server.use(http.get(`${E}/sse`, () => HttpResponse.html('<html>proxy login</html>')));
    const rec = new Recorder();
    const t = new SseTransport(params(E, rec, new RecordingSchedule()), { EventSource: Polyfill });
    t.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]?.kind).toBe('content_type');
  });

  it('a connection that cannot be made is a network failure', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    server.use(http.get(`${E}/sse`, () => HttpResponse.error()));
    const rec = new Recorder();
    const t = new SseTransport(params(E, rec, new RecordingSchedule()), { EventSource: Polyfill });
    t.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]?.kind).toBe('network');
    t.close();
  });

  it('queues frames until the welcome, then POSTs E/send with the session; acks come back as frames', async () => {
    const h = harness({ extra: { query: { v: '1', last: '0' }, hidden: { token: 'tok' }, headers: { 'X-Trace': 't1' } } });
    // Headers given: the transport reads with fetch and our parser, not the injected EventSource.
    const injectedBefore = sources.length;
    h.transport.connect();
    h.transport.send([{ t: 'emit', seq: 1, e: 'early' }]);
    await until(() => h.sseRequests.length === 1, 3000, 'sse request');
    expect(h.sseRequests[0]?.headers.get('X-Trace')).toBe('t1');
    expect(sources.length).toBe(injectedBefore);
    await settle();
    expect(h.posts).toEqual([]); // nothing before the welcome
    h.stream.frame(welcome({ sid: 'S9', secret: 'K9', cid: 'C9' }));
    await until(() => h.rec.types().includes('ack'), 3000, 'ack');
    expect(h.posts).toHaveLength(1);
    const post = h.posts[0];
    expect(post?.url.pathname).toBe('/rt/send');
    expect(post?.url.searchParams.toString()).toBe('v=1&sid=S9&cid=C9');
    expect(post?.headers.get('X-Realtime-Secret')).toBe('K9');
    expect(post?.headers.get('Authorization')).toBe('Bearer tok');
    expect(post?.headers.get('X-Trace')).toBe('t1');
    expect(post?.contentType).toBe('text/plain;charset=UTF-8');
    expect(post?.body).toEqual([{ t: 'emit', seq: 1, e: 'early' }]);
    expect(h.rec.frames).toEqual([welcome({ sid: 'S9', secret: 'K9', cid: 'C9' }), { t: 'ack', n: 1 }]);
    h.transport.close();
  });

  it('keeps one POST in flight; frames sent meanwhile go out as the next batch, in order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const h = harness({
      answerPost: async (frames) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await delay(80);
        inFlight--;
        const seqs = frames.flatMap((f) => ('seq' in f ? [f.seq] : []));
        return HttpResponse.json([{ t: 'ack', n: Math.max(0, ...seqs) }]);
      },
    });
    h.transport.connect();
    h.stream.frame(welcome());
    await until(() => h.rec.frames.length === 1, 3000, 'welcome');
    h.transport.send([{ t: 'emit', seq: 1, e: 'a' }]);
    await until(() => h.posts.length === 1, 3000, 'first POST');
    h.transport.send([{ t: 'emit', seq: 2, e: 'b' }]);
    h.transport.send([{ t: 'ack', id: 7 }, { t: 'req', seq: 3, e: 'c' }]);
    await until(() => h.rec.frames.length === 3, 3000, 'two acks');
    expect(h.posts.map((p) => p.body)).toEqual([
      [{ t: 'emit', seq: 1, e: 'a' }],
      [{ t: 'emit', seq: 2, e: 'b' }, { t: 'ack', id: 7 }, { t: 'req', seq: 3, e: 'c' }],
    ]);
    expect(maxInFlight).toBe(1);
    expect(h.rec.frames.slice(1)).toEqual([
      { t: 'ack', n: 1 },
      { t: 'ack', n: 3 },
    ]);
    h.transport.close();
  });

  it.each([
    [410, undefined, undefined],
    [503, '3', 3],
    [413, undefined, undefined],
  ])('a POST answered %i fails the transport as http and closes the stream', async (status, header, retryAfter) => {
    const h = harness({
      answerPost: () => new HttpResponse(null, { status, headers: header === undefined ? {} : { 'Retry-After': header } }),
    });
    h.transport.connect();
    h.stream.frame(welcome());
    await until(() => h.rec.frames.length === 1, 3000, 'welcome');
    h.transport.send([{ t: 'emit', seq: 1, e: 'a' }]);
    await until(() => h.rec.failures.length === 1, 3000, 'failure');
    expect(h.rec.failures[0]).toMatchObject({ kind: 'http', status });
    expect(h.rec.failures[0]?.retryAfter).toBe(retryAfter);
    expect(sources.at(-1)?.readyState).toBe(2); // the polyfill's CLOSED
    h.stream.frame({ t: 'ping' });
    await settle();
    expect(h.rec.types()).toEqual(['welcome']);
  });

  it('a POST whose answer is not a frame array is a protocol failure', async () => {
    const h = harness({ answerPost: () => HttpResponse.json({ ok: true }) });
    h.transport.connect();
    h.stream.frame(welcome());
    await until(() => h.rec.frames.length === 1, 3000, 'welcome');
    h.transport.send([{ t: 'emit', seq: 1, e: 'a' }]);
    await until(() => h.rec.failures.length === 1, 3000, 'failure');
    expect(h.rec.failures[0]?.kind).toBe('protocol');
  });

  it('close() aborts the POST in flight and reports nothing', async () => {
    const h = harness({
      answerPost: async () => {
        await delay(400);
        return HttpResponse.json([{ t: 'ack', n: 1 }]);
      },
    });
    h.transport.connect();
    h.stream.frame(welcome());
    await until(() => h.rec.frames.length === 1, 3000, 'welcome');
    h.transport.send([{ t: 'emit', seq: 1, e: 'a' }]);
    await until(() => h.posts.length === 1, 3000, 'POST');
    h.transport.close();
    expect(h.posts[0]?.signal?.aborted).toBe(true);
    await settle(500);
    expect(h.rec.types()).toEqual(['welcome']);
    expect(h.rec.failures).toEqual([]);
    expect(h.schedule.pending.size).toBe(0);
  });
});

describe('SseTransport: noticing a buffering proxy', () => {
  /**
   * A busy stream (50 msg/s) over 6 s of manual time. `buffered`: a proxy between server and client holds every
   * write and releases what it holds every 1.5 s, as nginx does with `proxy_buffering on`; the welcome gets through
   * at once. The fake server writes each POSTed echo to the stream (through the proxy, if there is one).
   */
  async function busyStream(buffered: boolean, over: { checkBuffering?: boolean; echo?: boolean } = {}) {
    const clock = new ManualClock();
    const start = clock.now();
    let held: string[] = [];
    const write = (f: ServerFrame): void => {
      const id = f.t === 'msg' ? `id: ${f.id}\n` : '';
      const text = `${id}data: ${JSON.stringify(f)}\n\n`;
      if (buffered) held.push(text);
      else h.stream.raw(text);
    };
    const h = harness({
      extra: {
        schedule: (callback, ms) => {
          const id = clock.setTimeout(callback, ms);
          return () => clock.clearTimeout(id);
        },
        now: () => clock.now(),
        checkBuffering: over.checkBuffering ?? true,
      },
      answerPost: (frames) => {
        for (const f of frames) if (f.t === 'echo') write({ t: 'echo', n: f.n });
        return HttpResponse.json([{ t: 'ack', n: 0 }]);
      },
    });
    let failedAt: number | undefined;
    const failures = h.rec.failures;
    h.transport.connect();
    h.stream.frame(welcome({ echo: over.echo ?? true }));
    await until(() => h.rec.frames.length === 1, 3000, 'welcome');
    let id = 0;
    for (let t = 20; t <= 6000 && failures.length === 0; t += 20) {
      write({ t: 'msg', id: ++id, e: 'n', d: id });
      if (t % 1500 === 0) {
        h.stream.raw(held.join(''));
        held = [];
      }
      await clock.advance(20);
      if (failures.length > 0) failedAt = clock.now() - start;
    }
    const echoes = h.posts.flatMap((p) => (p.body as ClientFrame[]).filter((f) => f.t === 'echo'));
    const delivered = h.rec.frames.flatMap((f) => (f.t === 'msg' ? [f.id] : []));
    h.transport.close();
    return { h, failures, failedAt, echoes, delivered, clock };
  }

  it('fails with buffered when a proxy holds a busy stream back 1.5 s at a time, naming the lag it measured', async () => {
    const r = await busyStream(true);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]?.kind).toBe('buffered');
    // The first burst (1.5 s) starts check 1; its echo comes with the next burst (3 s) and starts check 2, whose
    // echo is still held 1 s after its POST was answered: the second strike, at about 4 s.
    expect(r.failures[0]?.message).toMatch(/^stream held echoes back 1[45]\d\d ms and over 10\d\d ms \(still held\) after their POST was answered \(limit 1000 ms\): a proxy is buffering it$/);
    expect(r.failedAt).toBeGreaterThanOrEqual(4000);
    expect(r.failedAt).toBeLessThanOrEqual(4200);
    expect(r.echoes).toEqual([{ t: 'echo', n: 1 }, { t: 'echo', n: 2 }]);
    // The owner never sees an echo; the messages it saw arrived in order, none missing.
    expect(r.h.rec.types().filter((t) => t === 'echo')).toEqual([]);
    expect(r.delivered).toEqual(r.delivered.map((_, i) => i + 1));
    expect(r.clock.pending).toBe(0); // close() released the check's timer
  });

  it('an unbuffered busy stream over the same 6 s is healthy: three checks, 1 s then 2 s apart', async () => {
    const r = await busyStream(false);
    expect(r.failures).toEqual([]);
    expect(r.failedAt).toBeUndefined();
    expect(r.echoes).toEqual([{ t: 'echo', n: 1 }, { t: 'echo', n: 2 }, { t: 'echo', n: 3 }]);
    expect(r.delivered).toHaveLength(300);
  });

  it.each([
    ['the owner asks for no check (no transport after SSE)', { checkBuffering: false }],
    ['the server did not announce echoes (an older server)', { echo: false }],
  ])('sends no echo and never fails on a buffered stream when %s', async (_name, over) => {
    const r = await busyStream(true, over);
    expect(r.failures).toEqual([]);
    expect(r.echoes).toEqual([]);
    expect(r.h.posts).toEqual([]);
  });
});

describe('noise', () => {
  it("event-source-polyfill's own console.error line about a refused response is dropped (the failure reports it); other lines pass", async () => {
    const printed: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void printed.push(args[0]);
    try {
      server.use(http.get(`${E}/sse`, () => new HttpResponse('nope', { status: 500 })));
      const rec = new Recorder();
      const t = new SseTransport(params(E, rec, new RecordingSchedule()), { EventSource: Polyfill });
      t.connect();
      await until(() => rec.failures.length === 1, 3000, 'failure');
      await settle();
      expect(rec.failures[0]).toMatchObject({ kind: 'http', status: 500 });
      console.error('the app still prints');
      expect(printed).toEqual(['the app still prints']);
      expect(console.error).not.toBe(original); // ours, installed for this test, is back in place
    } finally {
      console.error = original;
    }
  });
});

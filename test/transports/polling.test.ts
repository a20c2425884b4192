import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import type { ClientFrame, ServerFrame } from '../../src/protocol/frames';
import type { FetchFn } from '../../src/transports/environment';
import { LongPollingTransport } from '../../src/transports/polling';
import type { TransportConnectParams } from '../../src/transports/transport';
import { params, Recorder, RecordingSchedule, settle, until, welcome } from './helpers';

const E = 'http://rt.test/rt';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
/** Closed after each test, so a failed assertion cannot leave a transport polling into the next test. */
const open: LongPollingTransport[] = [];
afterEach(() => {
  for (const t of open.splice(0)) t.close();
  server.resetHandlers();
});
afterAll(() => server.close());

interface Poll {
  query: URLSearchParams;
  headers: Headers;
}

/**
 * Serves polls from a script: the n-th poll gets `answers[n]` (after `slowMs`), later ones wait 5 s (like a server
 * holding a poll with nothing to send; close() aborts them).
 */
function pollServer(answers: (ServerFrame[] | (() => Response))[], slowMs = 0) {
  const polls: Poll[] = [];
  const posts: ClientFrame[][] = [];
  const live = { now: 0, max: 0 };
  server.use(
    http.get(`${E}/poll`, async ({ request }) => {
      const n = polls.length;
      polls.push({ query: new URL(request.url).searchParams, headers: request.headers });
      live.now++;
      live.max = Math.max(live.max, live.now);
      try {
        const answer = answers[n];
        await delay(answer === undefined ? 5_000 : slowMs);
        if (answer === undefined) return HttpResponse.json([{ t: 'ping' }]);
        return typeof answer === 'function' ? answer() : HttpResponse.json(answer);
      } finally {
        live.now--;
      }
    }),
    http.post(`${E}/send`, async ({ request }) => {
      const body = (await request.json()) as ClientFrame[];
      posts.push(body);
      return HttpResponse.json([{ t: 'ack', n: posts.length }]);
    }),
  );
  return { polls, posts, live };
}

function make(extra: Partial<TransportConnectParams> = {}, schedule = new RecordingSchedule(), fetch?: FetchFn) {
  const rec = new Recorder();
  const transport = new LongPollingTransport(params(E, rec, schedule, extra), fetch ? { fetch } : {});
  open.push(transport);
  return { rec, schedule, transport };
}

describe('LongPollingTransport', () => {
  it('handshakes without cid, then polls naming sid/cid, with the secret and last in headers, passing frames through in order', async () => {
    const s = pollServer([
      [welcome({ sid: 'S1', secret: 'K1', cid: 'C1', resumed: true }), { t: 'msg', id: 5, e: 'a' }],
      [{ t: 'msg', id: 6, e: 'b' }, { t: 'ping' }],
      [{ t: 'reply', id: 7, re: 1, d: 'ok' }],
    ]);
    const { rec, transport } = make({
      query: { v: '1', sid: 'S0', last: '4' },
      hidden: { secret: 'K0', token: 'tok' },
      headers: { Authorization: 'Bearer x' },
    });
    expect(transport.name).toBe('polling');
    transport.connect();
    await until(() => rec.frames.length === 5, 3000, 'five frames');
    expect(rec.types()).toEqual(['welcome', 'msg', 'msg', 'ping', 'reply']);
    expect(s.polls[0]?.query.toString()).toBe('v=1&sid=S0&last=4');
    expect(s.polls[0]?.headers.get('X-Realtime-Secret')).toBe('K0');
    // The app's own Authorization wins over the token's.
    expect(s.polls[0]?.headers.get('Authorization')).toBe('Bearer x');
    // Later polls: the same URL for the connection's life (one cross-origin preflight), the welcome's secret.
    expect(s.polls[1]?.query.toString()).toBe('v=1&sid=S1&cid=C1');
    expect(s.polls[2]?.query.toString()).toBe('v=1&sid=S1&cid=C1');
    expect(s.polls[1]?.headers.get('X-Realtime-Secret')).toBe('K1');
    expect(s.polls[1]?.headers.get('X-Realtime-Last')).toBe('4');
    expect(s.polls[1]?.headers.get('Authorization')).toBe('Bearer x');
    expect(rec.failures).toEqual([]);
    transport.close();
  });

  it('a resume the server refused starts the new session at last=0, so the old last acknowledges nothing in it', async () => {
    const s = pollServer([[welcome({ sid: 'NEW', resumed: false, resumeFailed: 'unknown_session' })], [{ t: 'msg', id: 1, e: 'a' }]]);
    const { rec, transport } = make({ query: { v: '1', sid: 'OLD', last: '300' }, hidden: { secret: 'K0' } });
    transport.connect();
    await until(() => s.polls.length === 3, 3000, 'third poll');
    expect(s.polls[0]?.query.get('last')).toBe('300');
    expect(s.polls[1]?.headers.get('X-Realtime-Last')).toBe('0');
    expect(s.polls[1]?.query.get('sid')).toBe('NEW');
    expect(rec.types()).toEqual(['welcome', 'msg']);
    transport.close();
  });

  it('never has two polls outstanding, even with a slow server; each next poll is scheduled with delay 0', async () => {
    const s = pollServer([[welcome()], [{ t: 'ping' }], [{ t: 'ping' }], [{ t: 'ping' }]], 60);
    const { rec, schedule, transport } = make();
    transport.connect();
    // Extra send() calls and frames must not trigger extra polls.
    transport.send([{ t: 'ack', id: 1 }]);
    await until(() => s.polls.length === 5, 3000, 'four answers and a fifth poll');
    expect(rec.frames).toHaveLength(4);
    expect(s.live.max).toBe(1);
    expect(schedule.delays.every((d) => d === 0)).toBe(true);
    expect(schedule.delays.length).toBe(4); // one per settled poll, none before
    transport.close();
  });

  it('turns ack frames into last on the next poll and never POSTs them; other frames are POSTed after the welcome', async () => {
    const s = pollServer([
      [welcome()],
      () => HttpResponse.json([{ t: 'msg', id: 1, e: 'a' }]),
      () => HttpResponse.json([{ t: 'ping' }]),
    ]);
    const schedule = new RecordingSchedule(false); // run the next poll by hand
    const { rec, transport } = make({ query: { v: '1', last: '0' } }, schedule);
    transport.send([{ t: 'emit', seq: 1, e: 'early' }]); // before the welcome: queued
    transport.connect();
    await until(() => schedule.pending.size === 1, 3000, 'next poll scheduled');
    expect(s.polls[0]?.query.get('last')).toBe('0');
    transport.send([{ t: 'ack', id: 3 }, { t: 'emit', seq: 2, e: 'x' }, { t: 'ack', id: 2 }]);
    schedule.runPending();
    await until(() => schedule.pending.size === 1, 3000, 'third poll scheduled');
    expect(s.polls[1]?.headers.get('X-Realtime-Last')).toBe('3'); // the highest ack, not the latest
    transport.send([{ t: 'ack', id: 9 }]);
    schedule.runPending();
    await until(() => s.polls.length === 3, 3000, 'third poll');
    expect(s.polls[2]?.headers.get('X-Realtime-Last')).toBe('9');
    await until(() => rec.types().filter((t) => t === 'ack').length >= 1, 3000, 'POST acks');
    await until(() => s.posts.flat().length === 2, 3000, 'both emits posted');
    expect(s.posts.flat()).toEqual([
      { t: 'emit', seq: 1, e: 'early' },
      { t: 'emit', seq: 2, e: 'x' },
    ]);
    transport.close();
  });

  it.each([
    ['7', 7],
    [new Date(Date.now() + 30_000).toUTCString(), 30],
  ])('a 503 with Retry-After %s is an http failure with retryAfter', async (header, seconds) => {
    pollServer([() => new HttpResponse('busy', { status: 503, headers: { 'Retry-After': header } })]);
    const { rec, schedule, transport } = make();
    transport.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]).toMatchObject({ kind: 'http', status: 503 });
    expect(rec.failures[0]?.retryAfter).toBeGreaterThanOrEqual(seconds - 1);
    expect(rec.failures[0]?.retryAfter).toBeLessThanOrEqual(seconds);
    expect(schedule.delays).toEqual([]); // no further poll
  });

  it('a 401 without Retry-After is an http failure without retryAfter', async () => {
    pollServer([() => new HttpResponse(null, { status: 401 })]);
    const { rec, transport } = make();
    transport.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]).toMatchObject({ kind: 'http', status: 401 });
    expect(rec.failures[0]).not.toHaveProperty('retryAfter');
  });

  it('a 200 that is not JSON (a proxy page) is a content_type failure', async () => {
    pollServer([() => HttpResponse.html('<html>login</html>')]);
    const { rec, transport } = make();
    transport.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]?.kind).toBe('content_type');
  });

  it.each([
    ['malformed JSON', () => new HttpResponse('[{"t":', { headers: { 'Content-Type': 'application/json' } })],
    ['an invalid frame', () => HttpResponse.json([{ t: 'welcome', sid: 1 }])],
    ['a handshake without welcome', () => HttpResponse.json([{ t: 'ping' }])],
  ])('%s is a protocol failure', async (_name, answer) => {
    pollServer([answer]);
    const { rec, schedule, transport } = make();
    transport.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]?.kind).toBe('protocol');
    expect(rec.frames).toEqual([]);
    expect(schedule.delays).toEqual([]);
  });

  it('a network error is a network failure, reported once', async () => {
    pollServer([() => HttpResponse.error()]);
    const { rec, transport } = make();
    transport.connect();
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]?.kind).toBe('network');
    await settle();
    expect(rec.failures).toHaveLength(1);
  });

  it('close() during a held poll aborts its fetch and reports nothing', async () => {
    const s = pollServer([[welcome()]]); // the second poll is held for 5 s
    const signals: AbortSignal[] = [];
    const fetchSpy: FetchFn = (input, init) => {
      if (init?.signal) signals.push(init.signal);
      return globalThis.fetch(input, init);
    };
    const { rec, schedule, transport } = make({}, new RecordingSchedule(), fetchSpy);
    transport.connect();
    await until(() => s.polls.length === 2, 3000, 'second poll');
    transport.close();
    expect(signals[1]?.aborted).toBe(true);
    await settle(100);
    expect(rec.types()).toEqual(['welcome']);
    expect(rec.failures).toEqual([]);
    expect(schedule.pending.size).toBe(0);
  });

  it('close() between two polls cancels the scheduled poll', async () => {
    const s = pollServer([[welcome()], [{ t: 'ping' }]]);
    const schedule = new RecordingSchedule(false);
    const { rec, transport } = make({}, schedule);
    transport.connect();
    await until(() => schedule.pending.size === 1, 3000, 'next poll scheduled');
    transport.close();
    expect(schedule.pending.size).toBe(0);
    expect(schedule.cancelled).toBe(1);
    await settle();
    expect(s.polls).toHaveLength(1);
    expect(rec.failures).toEqual([]);
  });

  it('close() from inside onFrame stops delivery of the rest of the batch and schedules nothing', async () => {
    pollServer([[welcome(), { t: 'msg', id: 1, e: 'a' }, { t: 'msg', id: 2, e: 'b' }]]);
    const { rec, schedule, transport } = make();
    rec.onFrameHook = (f) => {
      if (f.t === 'msg') transport.close();
    };
    transport.connect();
    await until(() => rec.frames.length === 2, 3000, 'two frames');
    await settle();
    expect(rec.types()).toEqual(['welcome', 'msg']);
    expect(schedule.delays).toEqual([]);
    expect(rec.failures).toEqual([]);
  });

  it('a POST answered 410 fails the transport and aborts the held poll', async () => {
    const s = pollServer([[welcome()]]);
    server.use(http.post(`${E}/send`, () => new HttpResponse(null, { status: 410 })));
    const { rec, schedule, transport } = make();
    transport.connect();
    await until(() => s.polls.length === 2, 3000, 'second poll');
    transport.send([{ t: 'emit', seq: 1, e: 'a' }]);
    await until(() => rec.failures.length === 1, 3000, 'failure');
    expect(rec.failures[0]).toMatchObject({ kind: 'http', status: 410 });
    expect(schedule.pending.size).toBe(0);
  });
});

/**
 * The wire layer follows the server's message limit (`welcome.maxFrame`): the SSE reader holds a line of one frame of
 * the announced limit (of a 1 MiB message, the default, until the welcome; bounded after it), and upstream POSTs carry no more than
 * the server reads of a body (four frames of the limit), however long the queue.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import type { ClientFrame } from '../../src/protocol/frames';
import { eventStreamLineLimit, postBodyLimit } from '../../src/protocol/limits';
import { SseTransport } from '../../src/transports/sse';
import { params, Recorder, RecordingSchedule, until, welcome } from './helpers';

const E = 'http://rt.test/rt';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** An SSE transport reading with fetch and our parser (a secret to send: no EventSource), its stream and POSTs. */
function rig() {
  const enc = new TextEncoder();
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const posts: { frames: ClientFrame[]; bytes: number }[] = [];
  server.use(
    http.get(`${E}/sse`, () => new HttpResponse(stream, { headers: { 'Content-Type': 'text/event-stream' } })),
    http.post(`${E}/send`, async ({ request }) => {
      const text = await request.text();
      const frames = JSON.parse(text) as ClientFrame[];
      posts.push({ frames, bytes: Buffer.byteLength(text) });
      const last = frames.at(-1) as { seq?: number } | undefined;
      return HttpResponse.json([{ t: 'ack', n: last?.seq ?? 0 }]);
    }),
  );
  const rec = new Recorder();
  const transport = new SseTransport(params(E, rec, new RecordingSchedule(), { hidden: { secret: 'K0' }, checkBuffering: false }), { fetch: globalThis.fetch });
  return { rec, transport, posts, write: (text: string) => controller?.enqueue(enc.encode(text)) };
}

const frameLine = (f: object): string => `data: ${JSON.stringify(f)}\n\n`;

describe('the SSE reader follows the announced limit', () => {
  it('a frame of a 2 MiB message right after a welcome announcing 2 MiB, in the same chunk, is read', async () => {
    const r = rig();
    r.transport.connect();
    const big = 'x'.repeat(2 * 1024 * 1024 - JSON.stringify({ e: 'big', d: '' }).length);
    r.write(frameLine(welcome({ maxFrame: 2 * 1024 * 1024 })) + `id: 1\n` + frameLine({ t: 'msg', id: 1, e: 'big', d: big }));
    await until(() => r.rec.frames.length === 2 || r.rec.failures.length > 0, 5000, 'the big frame');
    expect(r.rec.failures).toEqual([]);
    expect(r.rec.frames[1]).toMatchObject({ t: 'msg', id: 1, e: 'big' });
    r.transport.close();
  });

  it('still bounded: a line longer than a frame of the announced limit ends the stream as a protocol failure', async () => {
    const r = rig();
    r.transport.connect();
    const limit = 2 * 1024 * 1024;
    r.write(frameLine(welcome({ maxFrame: limit })) + 'data: ' + 'y'.repeat(eventStreamLineLimit(limit)));
    await until(() => r.rec.failures.length > 0, 5000, 'the failure');
    expect(r.rec.failures[0]).toMatchObject({ kind: 'protocol' });
    r.transport.close();
  });

  it('before a welcome the limit is a frame of a 1 MiB message (the default)', async () => {
    const r = rig();
    r.transport.connect();
    r.write('data: ' + 'z'.repeat(eventStreamLineLimit(1024 * 1024)));
    await until(() => r.rec.failures.length > 0, 5000, 'the failure');
    expect(r.rec.failures[0]).toMatchObject({ kind: 'protocol' });
    r.transport.close();
  });
});

describe('upstream POSTs fit the body the server reads', () => {
  it('a queue of many large emits goes out in several POSTs of at most four frames of the limit', async () => {
    const r = rig();
    const limit = 1000;
    r.transport.connect();
    r.write(frameLine(welcome({ maxFrame: limit })));
    await until(() => r.rec.frames.length === 1, 3000, 'the welcome');
    const frames: ClientFrame[] = Array.from({ length: 10 }, (_, i) => ({ t: 'emit', seq: i + 1, e: 'e', d: 'd'.repeat(limit - 20) }));
    r.transport.send(frames);
    await until(() => r.posts.reduce((n, p) => n + p.frames.length, 0) === 10, 5000, 'every frame posted');
    expect(r.posts.length).toBeGreaterThan(1);
    for (const p of r.posts) expect(p.bytes).toBeLessThanOrEqual(postBodyLimit(limit));
    expect(r.posts.flatMap((p) => p.frames.map((f) => (f as { seq: number }).seq))).toEqual(frames.map((f) => (f as { seq: number }).seq));
    r.transport.close();
  });
});

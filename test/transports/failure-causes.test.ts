/**
 * In Node, fetch fails with "fetch failed" and puts the reason in `cause`: the SSE and polling failures carry it
 * (ECONNREFUSED for a closed port, the TLS error for https:// to a plain HTTP server), as the WebSocket path does.
 * Real sockets on 127.0.0.1, no msw.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEventSourcePolyfill, type TransportEnvironment } from '../../src/transports/environment';
import { describe as describeError } from '../../src/transports/failures';
import { LongPollingTransport } from '../../src/transports/polling';
import { SseTransport } from '../../src/transports/sse';
import type { Transport } from '../../src/transports/transport';
import { params, Recorder, RecordingSchedule, until, welcome } from './helpers';

const servers: Server[] = [];
const transports: Transport[] = [];
afterEach(async () => {
  for (const t of transports.splice(0)) t.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(handler: Parameters<typeof createServer>[1] = (_req, res) => void res.writeHead(404).end()): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push(server);
  return server;
}
const portOf = (s: Server): number => (s.address() as AddressInfo).port;

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = portOf(s);
  await new Promise((r) => s.close(r));
  return port;
}

type Make = (url: string, rec: Recorder, env: TransportEnvironment) => Transport;
const kinds: [string, Make, () => Promise<TransportEnvironment>][] = [
  ['SSE (fetch and our parser)', (url, rec, env) => new SseTransport(params(url, rec, new RecordingSchedule()), env), async () => ({})],
  ['SSE (event-source-polyfill reading through our fetch)', (url, rec, env) => new SseTransport(params(url, rec, new RecordingSchedule()), env), async () => ({ EventSource: await loadEventSourcePolyfill() })],
  ['polling', (url, rec, env) => new LongPollingTransport(params(url, rec, new RecordingSchedule()), env), async () => ({})],
];

async function failureOf(make: Make, url: string, env: TransportEnvironment): Promise<string> {
  const rec = new Recorder();
  const t = make(url, rec, env);
  transports.push(t);
  t.connect();
  await until(() => rec.failures.length > 0, 5000, 'a failure');
  expect(rec.failures[0]!.kind).toBe('network');
  return rec.failures[0]!.message;
}

describe.each(kinds)('%s in Node names the cause of a failed request', (_name, make, env) => {
  it('a closed port: ECONNREFUSED', async () => {
    const message = await failureOf(make, `http://127.0.0.1:${await closedPort()}/rt`, await env());
    expect(message).toMatch(/fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)/);
  });

  it('https:// to a plain HTTP server: the TLS error', async () => {
    const plain = await listen();
    const message = await failureOf(make, `https://127.0.0.1:${portOf(plain)}/rt`, await env());
    expect(message).toMatch(/fetch failed \(ERR_SSL_WRONG_VERSION_NUMBER: .*wrong version number/);
  });
});

it("an upstream POST that fails names its cause too (the server drops the POST's connection)", async () => {
  const server = await listen((req, res) => {
    if (req.method === 'POST') return void req.socket.destroy();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify([welcome()]));
  });
  const rec = new Recorder();
  const t = new LongPollingTransport(params(`http://127.0.0.1:${portOf(server)}/rt`, rec, new RecordingSchedule()));
  transports.push(t);
  t.connect();
  await until(() => rec.frames.length > 0, 5000, 'the welcome');
  t.send([{ t: 'emit', seq: 1, e: 'x' }]);
  await until(() => rec.failures.length > 0, 5000, 'a failure');
  expect(rec.failures[0]!.message).toMatch(/failed: fetch failed \(.+\)/);
});

describe('describe(error)', () => {
  it('adds the code when the cause message lacks it, the first error of an AggregateError, nothing when there is no cause', () => {
    expect(describeError(new TypeError('fetch failed', { cause: Object.assign(new Error('boom'), { code: 'EX' }) }))).toBe('fetch failed (EX: boom)');
    const aggregate = Object.assign(new AggregateError([new Error('connect ECONNREFUSED ::1:9'), new Error('connect ECONNREFUSED 127.0.0.1:9')], ''), { code: 'ECONNREFUSED' });
    expect(describeError(new TypeError('fetch failed', { cause: aggregate }))).toBe('fetch failed (connect ECONNREFUSED ::1:9)');
    expect(describeError(new TypeError('fetch failed', { cause: Object.assign(new Error(''), { code: 'ETIMEDOUT' }) }))).toBe('fetch failed (ETIMEDOUT)');
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('text')).toBe('text');
  });
});

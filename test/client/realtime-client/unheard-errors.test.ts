/**
 * An error no `error` listener hears is reported once per code, the way an unhandled promise rejection is: to
 * console.error (or the app's logger), with the message that says what to do. A `close` listener does not count.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { RealtimeClient } from '../../../src/client/realtime-client';
import type { ClientOptions } from '../../../src/client/options';
import { polyfill, server, useMsw } from './harness';
import { FakeRealtime } from './fake-realtime';
import { ManualClock, settle } from './manual-clock';

useMsw();

let consoleError: MockInstance<(...args: unknown[]) => void>;
beforeEach(() => void (consoleError = vi.spyOn(console, 'error').mockImplementation(() => {})));
afterEach(() => consoleError.mockRestore());

const clients: RealtimeClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A client with no lifecycle listener at all (the harness's rig listens to every event). */
function bare(fake: FakeRealtime, options: ClientOptions = {}): { client: RealtimeClient; clock: ManualClock } {
  server.use(...fake.handlers());
  const clock = new ManualClock();
  const client = new RealtimeClient(fake.base, { clock, random: () => 0.5, EventSource: polyfill(), storage: null, autoConnect: false, ...options });
  clients.push(client);
  return { client, clock };
}

const lines = (): string[] => consoleError.mock.calls.map((c) => String(c[0]));

describe('errors nobody listens to', () => {
  it('a client that stops (unauthorized) with no error listener writes one console.error naming the code and the reason', async () => {
    const fake = new FakeRealtime();
    fake.behaviour.polling = { status: 403 };
    const { client } = bare(fake, { transports: ['polling'] });
    client.connect();
    await vi.waitFor(() => expect(client.state).toBe('closed'));
    expect(lines()).toEqual(["realtime-fallback: unhandled unauthorized (reported once per code; handle it with client.lifecycle.on('error', ...)):"]);
    expect(consoleError.mock.calls[0]![1]).toMatchObject({ name: 'RealtimeError', code: 'unauthorized', message: expect.stringMatching(/^server refused the credential \(HTTP 403\)/) });
  });

  it('a close listener does not count as hearing it', async () => {
    const fake = new FakeRealtime();
    fake.behaviour.polling = { status: 403 };
    const { client } = bare(fake, { transports: ['polling'] });
    const closes: unknown[] = [];
    client.lifecycle.on('close', (e) => closes.push(e));
    client.connect();
    await vi.waitFor(() => expect(client.state).toBe('closed'));
    expect(closes).toHaveLength(1);
    expect(lines()).toHaveLength(1);
  });

  it('transport_failed, once per code however many walks fail; an error listener added later silences it', async () => {
    const fake = new FakeRealtime();
    fake.behaviour.polling = 'refuse';
    const { client, clock } = bare(fake, { transports: ['polling'] });
    const retries: number[] = [];
    client.lifecycle.on('reconnecting', (e) => retries.push(e.delayMs));
    client.connect();
    await vi.waitFor(() => expect(lines()).toHaveLength(1));
    expect(lines()[0]).toMatch(/^realtime-fallback: unhandled transport_failed /);
    expect(consoleError.mock.calls[0]![1]).toMatchObject({ code: 'transport_failed', message: expect.stringMatching(/^every transport failed \(polling: poll failed/) });
    for (let walk = 1; walk <= 3; walk++) {
      await vi.waitFor(() => expect(retries).toHaveLength(walk));
      await clock.advance(retries[walk - 1]!);
    }
    await vi.waitFor(() => expect(retries).toHaveLength(4));
    expect(lines()).toHaveLength(1);
    const heard: string[] = [];
    client.lifecycle.on('error', (e) => heard.push(e.code));
    await clock.advance(retries[3]!);
    await vi.waitFor(() => expect(heard).toEqual(['transport_failed']));
    expect(lines()).toHaveLength(1);
  });

  it('nothing on the console with an error listener', async () => {
    const fake = new FakeRealtime();
    fake.behaviour.polling = { status: 403 };
    const { client } = bare(fake, { transports: ['polling'] });
    const heard: string[] = [];
    client.lifecycle.on('error', (e) => heard.push(e.code));
    client.connect();
    await vi.waitFor(() => expect(client.state).toBe('closed'));
    expect(heard).toEqual(['unauthorized']);
    expect(lines()).toEqual([]);
  });

  it("to the app's logger instead of the console when it gave one", async () => {
    const fake = new FakeRealtime();
    fake.behaviour.polling = { status: 403 };
    const logged: [string, string][] = [];
    const { client } = bare(fake, { transports: ['polling'], logger: (level, message) => void logged.push([level, message]) });
    client.connect();
    await vi.waitFor(() => expect(client.state).toBe('closed'));
    expect(logged.filter(([level]) => level === 'error').map(([, m]) => m)).toEqual([expect.stringMatching(/^unhandled unauthorized \(.*\): server refused the credential/)]);
    expect(lines()).toEqual([]);
  });
});

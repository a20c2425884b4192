import { describe, expect, it } from 'vitest';
import { RealtimeError } from '../../../src/client/errors';
import { DEFAULTS, resolveOptions, type ResolvedOptions } from '../../../src/client/options';
import { shareModeOn, type ShareMode } from '../../../src/client/share/share-mode';
import type { TransportName } from '../../../src/protocol/frames';
import type { Transport } from '../../../src/transports/transport';
import { RealtimeClient as DefaultClient } from '../../../src/client/realtime-client';
import { RealtimeClient as SharingClient } from '../../../src/share';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof RealtimeError ? error.code : `not a RealtimeError: ${String(error)}`;
  }
  return undefined;
};

describe('the share option', () => {
  it('is off by default; true or a channel name turn it on', () => {
    expect(DEFAULTS.share).toBe(false);
    expect(resolveOptions({}).share).toBe(false);
    expect(resolveOptions({ share: true }).share).toBe(true);
    expect(resolveOptions({ share: 'my-app' }).share).toBe('my-app');
  });

  it('rejects anything else, and plain mode (nothing there to resume), with invalid_argument', () => {
    expect(code(() => resolveOptions({ share: '' }))).toBe('invalid_argument');
    expect(code(() => resolveOptions({ share: 1 as unknown as boolean }))).toBe('invalid_argument');
    expect(code(() => resolveOptions({ share: {} as unknown as boolean }))).toBe('invalid_argument');
    expect(code(() => resolveOptions({ share: 1n as unknown as boolean }))).toBe('invalid_argument');
    expect(code(() => resolveOptions({ share: Symbol('s') as unknown as boolean }))).toBe('invalid_argument');
    expect(code(() => resolveOptions({ protocol: 'plain', endpoints: { websocket: '/ws' }, share: true }))).toBe('invalid_argument');
  });

  it('needs the client of realtime-fallback/share: the default one says so instead of connecting alone', () => {
    expect(code(() => new DefaultClient('http://127.0.0.1:1/rt', { share: true, autoConnect: false }))).toBe('invalid_argument');
    const shared = new SharingClient('http://127.0.0.1:1/rt', { share: true, autoConnect: false });
    expect(shared).toBeInstanceOf(DefaultClient);
    expect(shared.state).toBe('idle');
    shared.close();
    // Without share it is the plain client.
    const alone = new SharingClient('http://127.0.0.1:1/rt', { autoConnect: false });
    alone.close();
  });
});

describe('a sharing tab: settings as data', () => {
  it("the tab's own client links with the share mode's overrides; the leading connection gets the options as given", async () => {
    const share = shareModeOn();
    let leading: ResolvedOptions | undefined;
    const attempts: string[] = [];
    let authCalls = 0;
    const mode: ShareMode = {
      overrides: share.overrides,
      linkOptions: (given) => share.linkOptions(given),
      create: (_settings, given) => {
        leading = given;
        return {
          requests: true,
          probes: false,
          refusalMeansUnavailable: false,
          url: () => 'http://127.0.0.1:1/rt',
          handshake: () => ({ query: {}, hidden: {} }),
          prepare: () => null,
          createTransport: (name): Transport => {
            attempts.push(name);
            return { name, connect() {}, send() {}, close() {} };
          },
          livenessLimitMs: () => 0,
          reopenDelayMs: () => undefined,
        };
      },
    };
    const options = { share: true, autoConnect: false, transports: ['sse', 'websocket'] as TransportName[], raceAfterMs: 300, auth: () => (authCalls++, { token: 't' }) };
    const client = new DefaultClient('http://127.0.0.1:1/rt', options, mode);
    client.connect();
    await new Promise((r) => setTimeout(r, 0));
    client.close();
    expect(attempts).toEqual(['websocket']); // one link, whatever the transports given
    expect(authCalls).toBe(0); // only the leader's connection presents credentials
    expect(leading).toMatchObject({ transports: ['sse', 'websocket'], raceAfterMs: 300, backoff: { initialMs: 500 }, auth: options.auth });
    expect(Object.isFrozen(leading) && Object.isFrozen(leading!.backoff)).toBe(true);
    expect(share.overrides).toMatchObject({ backoff: { initialMs: 25 }, transports: ['websocket'], raceAfterMs: 0, storage: null, rememberTransportMs: 0, auth: undefined });
  });
});

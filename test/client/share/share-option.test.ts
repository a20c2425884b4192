import { describe, expect, it } from 'vitest';
import { RealtimeError } from '../../../src/client/errors';
import { DEFAULTS, resolveOptions } from '../../../src/client/options';
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

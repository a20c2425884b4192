import { describe, expect, it } from 'vitest';
import { Session } from '../../src/server/session';
import { welcomeFrame } from '../../src/server/welcome-frame';

describe('welcomeFrame', () => {
  it('carries the session, its current secret, what it accepted, its last frame and the limits; extra fields win', () => {
    const session = new Session({ publish: () => {}, onConnectionChange: () => {}, logger: console }, { maxMessages: 10, maxBytes: 1 << 20 });
    session.emit('hello');
    const opts = { heartbeatMs: 25_000, maxMessageBytes: 65_536 };
    expect(welcomeFrame(opts, session, 'c1', false)).toEqual({
      t: 'welcome',
      sid: session.id,
      secret: session.secret,
      cid: 'c1',
      hb: 25_000,
      resumed: false,
      ack: 0,
      maxFrame: 65_536,
      echo: true,
      head: 1,
    });
    expect(welcomeFrame(opts, session, 'c2', true, { probe: true, prevAck: 3 })).toMatchObject({ cid: 'c2', resumed: true, probe: true, prevAck: 3 });
  });
});

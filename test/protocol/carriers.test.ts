import { describe, expect, it } from 'vitest';
import { offeredSubprotocols, readSubprotocols, WS_SUBPROTOCOL } from '../../src/protocol/carriers';

/** RFC 7230 `token`: what a Sec-WebSocket-Protocol value may hold (browsers throw a SyntaxError otherwise). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

describe('private parameters in WebSocket subprotocols', () => {
  it('offers nothing when there is nothing private, so a first connection looks as before', () => {
    expect(offeredSubprotocols({})).toEqual([]);
    expect(offeredSubprotocols({ token: undefined })).toEqual([]);
  });

  it('offers ours first and the parameters second, as valid tokens, and reads them back', () => {
    const params = { secret: 'Zx9_-abc', token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig+/=', join: 'Jk9aQ2xpZW50LXJhY2U' };
    const offered = offeredSubprotocols(params);
    expect(offered[0]).toBe(WS_SUBPROTOCOL);
    expect(offered).toHaveLength(2);
    for (const p of offered) expect(p).toMatch(TOKEN);
    expect(readSubprotocols(offered)).toEqual(params);
  });

  it('carries any string, non-ASCII included', () => {
    const params = { token: 'jöhn ☃ "quoted" , comma' };
    expect(readSubprotocols(offeredSubprotocols(params))).toEqual(params);
  });

  it('says nothing was sent when no parameters subprotocol was offered', () => {
    expect(readSubprotocols([])).toBeUndefined();
    expect(readSubprotocols([WS_SUBPROTOCOL, 'chat'])).toBeUndefined();
  });

  it.each([
    ['not base64url', 'realtime-fallback.p.a$b', 'not base64url'],
    ['not JSON', `realtime-fallback.p.${Buffer.from('nope').toString('base64url')}`, 'not base64url JSON'],
    ['not UTF-8', `realtime-fallback.p.${Buffer.from([0xff, 0xfe]).toString('base64url')}`, 'not base64url JSON'],
    ['an array', `realtime-fallback.p.${Buffer.from('[1]').toString('base64url')}`, 'not an object'],
    ['a number secret', `realtime-fallback.p.${Buffer.from('{"secret":1}').toString('base64url')}`, 'not a string'],
  ])('says why a malformed one cannot be read: %s', (_what, value, reason) => {
    const read = readSubprotocols([WS_SUBPROTOCOL, value]);
    expect(typeof read).toBe('string');
    expect(read).toContain(reason);
  });
});

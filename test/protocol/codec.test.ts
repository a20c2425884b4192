import { describe, expect, it } from 'vitest';
import {
  decodeClientBatch,
  nestedDeeperThan,
  decodeClientFrame,
  decodeServerBatch,
  decodeServerFrame,
  encodeBatch,
  encodeFrame,
  utf8Length,
} from '../../src/protocol/codec';
import type { ClientFrame, ServerFrame } from '../../src/protocol/frames';

const welcome = { t: 'welcome', sid: 's1', secret: 'k', cid: 'c1', hb: 25000, resumed: false, ack: 0, maxFrame: 65536 };

const validServer: [string, object][] = [
  ['welcome', welcome],
  ['welcome with optional fields', { ...welcome, resumed: true, resumeFailed: 'expired', probe: true, ack: 12, echo: true }],
  ['msg', { t: 'msg', id: 1, e: 'chat', d: { text: 'hi' } }],
  ['msg without data', { t: 'msg', id: 0, e: 'tick' }],
  ['reply', { t: 'reply', id: 2, re: 1, d: [1, 2] }],
  ['reply with error', { t: 'reply', id: 3, re: 2, err: { code: 'not_found', message: 'no such room' } }],
  ['welcome refusing a resume, with what the old session accepted', { ...welcome, resumed: false, resumeFailed: 'expired', prevAck: 4 }],
  ['ack', { t: 'ack', n: 7 }],
  ['ping', { t: 'ping' }],
  ['echo', { t: 'echo', n: 0 }],
  ['error', { t: 'error', code: 'rate_limited', message: 'slow down', status: 429, retryAfter: 3 }],
  ['close', { t: 'close', code: 'replaced', reason: 'another tab' }],
  ['frame with unknown extra fields', { t: 'ping', future: 1 }],
];

const invalidServer: [string, unknown, RegExp][] = [
  ['welcome without sid', { ...welcome, sid: undefined }, /^welcome frame: sid, secret and cid/],
  ['welcome with numeric secret', { ...welcome, secret: 1 }, /^welcome frame: sid, secret and cid/],
  ['welcome without cid', { ...welcome, cid: undefined }, /^welcome frame: sid, secret and cid/],
  ['welcome with hb 0', { ...welcome, hb: 0 }, /^welcome frame: hb, ack, maxFrame/],
  ['welcome with float hb', { ...welcome, hb: 1.5 }, /^welcome frame: hb, ack, maxFrame/],
  ['welcome with negative ack', { ...welcome, ack: -1 }, /^welcome frame: hb, ack, maxFrame/],
  ['welcome without maxFrame', { ...welcome, maxFrame: undefined }, /^welcome frame: hb, ack, maxFrame/],
  ['welcome with string resumed', { ...welcome, resumed: 'no' }, /^welcome frame: resumed must be a boolean/],
  ['welcome with string echo', { ...welcome, echo: 'yes' }, /^welcome frame: echo must be a boolean/],
  ['welcome with a negative head', { ...welcome, head: -1 }, /^welcome frame: head must be an integer/],
  ['welcome with a float prevAck', { ...welcome, resumeFailed: 'overrun', prevAck: 1.5 }, /^welcome frame: prevAck must be an integer/],
  ['welcome with a string prevAck', { ...welcome, resumeFailed: 'overrun', prevAck: '3' }, /^welcome frame: prevAck must be an integer/],
  ['msg with negative id', { t: 'msg', id: -1, e: 'x' }, /^msg frame: needs integer id/],
  ['msg with float id', { t: 'msg', id: 1.5, e: 'x' }, /^msg frame: needs integer id/],
  ['msg with unsafe id', { t: 'msg', id: 2 ** 53, e: 'x' }, /^msg frame: needs integer id/],
  ['msg with string id', { t: 'msg', id: '1', e: 'x' }, /^msg frame: needs integer id/],
  ['msg without e', { t: 'msg', id: 1 }, /^msg frame: needs integer id and string e/],
  ['reply without re', { t: 'reply', id: 1 }, /^reply frame: needs integer id and re/],
  ['reply with negative re', { t: 'reply', id: 1, re: -2 }, /^reply frame: needs integer id and re/],
  ['reply with err lacking code', { t: 'reply', id: 1, re: 1, err: { message: 'x' } }, /^reply frame: err needs a code/],
  ['reply with string err', { t: 'reply', id: 1, re: 1, err: 'bad' }, /^reply frame: err needs a code/],
  ['ack without n', { t: 'ack' }, /^ack frame: needs integer n/],
  ['ack with float n', { t: 'ack', n: 0.1 }, /^ack frame: needs integer n/],
  ['error without code', { t: 'error', message: 'x' }, /^error frame: needs a code/],
  ['close with numeric code', { t: 'close', code: 1000 }, /^close frame: needs a code/],
  ['echo without n', { t: 'echo' }, /^echo frame: needs integer n/],
  ['echo with negative n', { t: 'echo', n: -1 }, /^echo frame: needs integer n/],
  ['unknown t', { t: 'bogus' }, /^unknown frame type "bogus"$/],
  ['client-only t', { t: 'emit', seq: 1, e: 'x' }, /^unknown frame type "emit"$/],
  ['missing t', { id: 1 }, /^unknown frame type undefined$/],
  ['array', [{ t: 'ping' }], /^frame is not an object$/],
  ['null', null, /^frame is not an object$/],
  ['number', 42, /^frame is not an object$/],
  ['string', 'ping', /^frame is not an object$/],
];

describe('decodeServerFrame', () => {
  it.each(validServer)('accepts %s', (_name, frame) => {
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
  });

  it.each(invalidServer)('rejects %s with a reason', (_name, value, reason) => {
    const d = decodeServerFrame(JSON.stringify(value));
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(reason);
  });

  it.each(['{', '', 'undefined', "{'t':'ping'}", '{"t":"ping"', 'NaN'])('rejects malformed JSON %j', (text) => {
    expect(decodeServerFrame(text)).toEqual({ ok: false, reason: 'malformed JSON' });
  });

  it('never throws on hostile input', () => {
    const inputs = ['{"__proto__":{"t":"ping"}}', '{"t":{"toString":1}}', '{"t":"reply","id":1,"re":1,"err":null}', '[]', '"\\ud800"', '1e999', '{"t":"welcome"}'];
    for (const text of inputs) {
      expect(() => decodeServerFrame(text)).not.toThrow();
      expect(decodeServerFrame(text).ok).toBe(false);
    }
  });
});

const validClient: [string, ClientFrame][] = [
  ['emit', { t: 'emit', seq: 1, e: 'say', d: 'hi' }],
  ['emit without data', { t: 'emit', seq: 9, e: 'poke' }],
  ['req', { t: 'req', seq: 2, e: 'history', d: { limit: 10 } }],
  ['ack', { t: 'ack', id: 0 }],
  ['upgrade', { t: 'upgrade', last: 41 }],
  ['echo', { t: 'echo', n: 3 }],
];

const invalidClient: [string, unknown, RegExp][] = [
  ['emit with seq 0', { t: 'emit', seq: 0, e: 'x' }, /^emit frame: needs integer seq >= 1/],
  ['req with negative seq', { t: 'req', seq: -1, e: 'x' }, /^req frame: needs integer seq >= 1/],
  ['emit with float seq', { t: 'emit', seq: 1.5, e: 'x' }, /^emit frame: needs integer seq >= 1/],
  ['emit without seq', { t: 'emit', e: 'x' }, /^emit frame: needs integer seq >= 1/],
  ['req without e', { t: 'req', seq: 1 }, /^req frame: needs integer seq >= 1 and string e/],
  ['ack with negative id', { t: 'ack', id: -1 }, /^ack frame: needs integer id/],
  ['ack with n instead of id', { t: 'ack', n: 3 }, /^ack frame: needs integer id/],
  ['upgrade without last', { t: 'upgrade' }, /^upgrade frame: needs integer last/],
  ['echo with float n', { t: 'echo', n: 0.5 }, /^echo frame: needs integer n/],
  ['echo with string n', { t: 'echo', n: '1' }, /^echo frame: needs integer n/],
  ['server-only t', { t: 'ping' }, /^unknown frame type "ping"$/],
  ['array', [], /^frame is not an object$/],
  ['null', null, /^frame is not an object$/],
  ['boolean', true, /^frame is not an object$/],
];

describe('decodeClientFrame', () => {
  it.each(validClient)('accepts %s', (_name, frame) => {
    expect(decodeClientFrame(JSON.stringify(frame))).toEqual({ ok: true, frame });
  });

  it.each(invalidClient)('rejects %s with a reason', (_name, value, reason) => {
    const d = decodeClientFrame(JSON.stringify(value));
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(reason);
  });

  it('rejects malformed JSON', () => {
    expect(decodeClientFrame('{"t":"emit",')).toEqual({ ok: false, reason: 'malformed JSON' });
  });

  it('round-trips every client frame through encodeFrame', () => {
    for (const [, frame] of validClient) expect(decodeClientFrame(encodeFrame(frame))).toEqual({ ok: true, frame });
  });

  it('round-trips server frames through encodeFrame', () => {
    for (const [, frame] of validServer) {
      expect(decodeServerFrame(encodeFrame(frame as ServerFrame))).toEqual({ ok: true, frame });
    }
  });
});

describe('batches', () => {
  it('decode a JSON array of valid frames, empty included', () => {
    const server = validServer.map(([, f]) => f as ServerFrame);
    expect(decodeServerBatch(encodeBatch(server))).toEqual({ ok: true, frame: server });
    const client = validClient.map(([, f]) => f);
    expect(decodeClientBatch(encodeBatch(client))).toEqual({ ok: true, frame: client });
    expect(decodeServerBatch('[]')).toEqual({ ok: true, frame: [] });
  });

  it('reject anything but an array', () => {
    expect(decodeServerBatch('{"t":"ping"}')).toEqual({ ok: false, reason: 'batch is not an array' });
    expect(decodeClientBatch('null')).toEqual({ ok: false, reason: 'batch is not an array' });
  });

  it('reject the whole batch when one frame is invalid, with that frame\'s reason', () => {
    const text = JSON.stringify([{ t: 'ping' }, { t: 'msg', id: -3, e: 'x' }, { t: 'ack', n: 1 }]);
    const d = decodeServerBatch(text);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.reason).toMatch(/^msg frame: needs integer id/);
    const c = decodeClientBatch(JSON.stringify([{ t: 'emit', seq: 1, e: 'a' }, 'oops']));
    expect(c).toEqual({ ok: false, reason: 'frame is not an object' });
  });

  it('reject malformed JSON', () => {
    expect(decodeClientBatch('[{"t":"emit"')).toEqual({ ok: false, reason: 'malformed JSON' });
    expect(decodeServerBatch('')).toEqual({ ok: false, reason: 'malformed JSON' });
  });
});

describe('utf8Length', () => {
  // Buffer.byteLength encodes a lone surrogate as U+FFFD (3 bytes), as TextEncoder and the WHATWG spec do.
  it.each([
    ['empty', ''],
    ['ASCII', 'hello, world {"t":"ping"}'],
    ['2-byte chars', 'héllo ßñ ©'],
    ['3-byte chars', '€ 中文 ｱ'],
    ['4-byte chars (surrogate pairs)', '😀 𝄞 𠜎'],
    ['a mix', 'a é € 😀 z'],
    ['a lone high surrogate at the end', 'abc\ud83d'],
    ['a lone low surrogate', '\ude00abc'],
    ['a reversed pair', '\ude00\ud83d'],
    ['a lone high surrogate before ASCII', '\ud83da'],
    ['a lone high surrogate before a 2-byte char', '\ud800é'],
    ['a lone high surrogate before a 3-byte char', '\ud800中'],
    ['two high surrogates then a low one', '\ud83d\ud83d\ude00'],
  ])('matches Buffer.byteLength for %s', (_name, text) => {
    expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  it('matches Buffer.byteLength on random UTF-16 strings', () => {
    let seed = 12345;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    // Code units weighted towards the interesting ranges: ASCII, 2-byte, 3-byte, and surrogates.
    const ranges: [number, number][] = [[0x20, 0x7f], [0x80, 0x7ff], [0x800, 0xd7ff], [0xd800, 0xdbff], [0xdc00, 0xdfff], [0xe000, 0xffff]];
    for (let n = 0; n < 500; n++) {
      let text = '';
      const length = Math.floor(next() * 12);
      for (let i = 0; i < length; i++) {
        const [lo, hi] = ranges[Math.floor(next() * ranges.length)]!;
        text += String.fromCharCode(lo + Math.floor(next() * (hi - lo + 1)));
      }
      expect(utf8Length(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, 'utf8'));
    }
  });
});

describe('nestedDeeperThan', () => {
  const depthOf = (v: unknown): number => (typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);

  it('counts arrays and objects, not brackets inside strings (escaped quotes included)', () => {
    expect(nestedDeeperThan('[[[1]]]', 3)).toBe(false);
    expect(nestedDeeperThan('[[[1]]]', 2)).toBe(true);
    expect(nestedDeeperThan('{"a":{"b":[1]}}', 2)).toBe(true);
    const tricky = JSON.stringify({ s: '[[[[{{{{"\\"[[[[', t: ['\\', '"]]]'], u: [[{}]] });
    expect(nestedDeeperThan(tricky, 4)).toBe(false);
    expect(nestedDeeperThan(tricky, 3)).toBe(true);
  });

  it('agrees with the parsed depth on random documents', () => {
    let seed = 7;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const make = (d: number): unknown => {
      if (d === 0 || rand() < 0.2) return rand() < 0.5 ? '"[{' : 1;
      return rand() < 0.5 ? [make(d - 1), '\\"]'] : { k: make(d - 1), '[': '}' };
    };
    for (let i = 0; i < 200; i++) {
      const v = make(1 + Math.floor(rand() * 12));
      const text = JSON.stringify(v);
      const depth = depthOf(v);
      expect(nestedDeeperThan(text, depth), text).toBe(false);
      if (depth > 0) expect(nestedDeeperThan(text, depth - 1), text).toBe(true);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/protocol/codec';
import type { MessageFrame } from '../../src/protocol/frames';
import { encodeMessage } from '../../src/server/message-text';

// encodeMessage must give byte for byte what encodeFrame gives: the client parses both, the journal stores them.
describe('encodeMessage', () => {
  const cases: MessageFrame[] = [
    { t: 'msg', id: 1, e: 'm', d: { i: 0, p: 'x'.repeat(60) } },
    { t: 'msg', id: 2, e: 'm' },
    { t: 'msg', id: 3, e: 'm', d: null },
    { t: 'msg', id: 4, e: 'quote "and" \\ back\nslash', d: 'é😀\u2028' },
    { t: 'msg', id: 5, e: 'm', d: [1, 'two', { three: [3] }] },
    { t: 'msg', id: 6, e: 'other', d: 0 },
    { t: 'msg', id: 7, e: 'm', d: false },
    { t: 'msg', id: 9007199254740991, e: '', d: '' },
    { t: 'msg', id: 8, e: 'm', d: () => 1 },
    { t: 'msg', id: 9, e: 'm', d: Symbol('s') },
    { t: 'msg', id: 10, e: 'm', d: { at: new Date(0), skip: undefined } },
    { t: 'msg', id: 11, e: undefined as unknown as string, d: 1 },
    { t: 'msg', id: 12, e: 7 as unknown as string, d: 1 },
  ];

  it.each(cases.map((f) => [f.e, f] as const))('equals encodeFrame for event %j', (_e, frame) => {
    expect(encodeMessage(frame)).toBe(encodeFrame(frame));
  });

  it('does not reuse the previous event name when the event changes', () => {
    expect(JSON.parse(encodeMessage({ t: 'msg', id: 1, e: 'a', d: 1 }))).toEqual({ t: 'msg', id: 1, e: 'a', d: 1 });
    expect(JSON.parse(encodeMessage({ t: 'msg', id: 2, e: 'b', d: 2 }))).toEqual({ t: 'msg', id: 2, e: 'b', d: 2 });
    expect(JSON.parse(encodeMessage({ t: 'msg', id: 3, e: 'a', d: 3 }))).toEqual({ t: 'msg', id: 3, e: 'a', d: 3 });
  });
});

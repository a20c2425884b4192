/**
 * Client frames as an attacker writes them, for POST bodies and WebSocket messages alike: random JSON, nesting deeper
 * than any app needs (`[`×N), huge strings, wrong types and unknown frames, seq and ack abuse, `upgrade` and `echo`
 * frames, and requests whose reply the app cannot encode.
 */
import type { Rand } from './rand';

/** A request to the app's `bad` handler: its reply (or emit) cannot be encoded, or it throws. */
export const badRequest = (r: Rand, seq: number): object => ({
  t: 'req',
  seq,
  e: 'bad',
  d: { how: r.pick(['reply', 'reply', 'emit', 'throw']), what: r.pick(['bigint', 'cycle', 'deep', 'toJSON']) },
});

const SEQS = [0, -1, 1, 2, 3, 1.5, 2 ** 53, 2 ** 53 + 2, 1e308, -0, '1', null, true, [], {}];

/** One frame object (or something that should be one). */
export function frame(r: Rand, seq: number): unknown {
  const s = r.chance(0.6) ? seq : r.pick(SEQS);
  switch (r.int(0, 13)) {
    case 0:
      return { t: 'emit', seq: s, e: r.pick(['say', 'up', 'join', 'echo', 'x', '', 'disconnect', '__proto__']), d: r.json(3) };
    case 1:
      return { t: 'req', seq: s, e: 'echo', d: r.json(4) };
    case 2:
      return { t: 'req', seq: s, e: 'join', d: r.pick(['lobby', 'good', r.text(r.size(100)), '']) };
    case 3:
      return { t: 'emit', seq: s, e: 'say', d: { room: r.pick(['lobby', 'good', 'tick']), text: r.text(r.size(2000)) } };
    case 4:
      return { t: 'ack', id: r.pick([0, -1, 1, 1e9, 2 ** 53, 1e308, 'x', null]) };
    case 5:
      return { t: 'upgrade', last: r.pick([0, 1, -1, 1e9, 2 ** 60, 'x', null]) };
    case 6:
      return { t: 'echo', n: r.pick([0, 1, -1, 2 ** 53, 1e308, 'x', null, r.int(0, 1e9)]) };
    case 7:
      return { t: r.pick(['welcome', 'msg', 'reply', 'ping', 'close', 'error', 'EMIT', '', 5, null]), seq: s, id: 1 };
    case 8:
      return badRequest(r, typeof s === 'number' ? s : seq);
    case 9:
      return { t: 'req', seq: s, e: 'echo', d: 'x'.repeat(r.size(300_000)) };
    case 10:
      return { t: 'emit', seq: s, e: 'x'.repeat(r.size(100_000)) };
    case 11:
      return r.json(4);
    case 12:
      return { t: 'emit', seq: s }; // no event name
    default:
      return { t: 'req', seq: s, e: 'join', d: r.text(20), extra: r.json(2) };
  }
}

/** `[` × n (and maybe the `]`s): JSON nesting deeper than a recursive reviver or encoder survives. */
export const deepNesting = (r: Rand, max: number): string => {
  const n = r.size(max);
  return r.chance(0.5) ? `${'['.repeat(n)}${']'.repeat(n)}` : `[{"t":"emit","seq":1,"e":"x","d":${'['.repeat(n)}${']'.repeat(n)}}]`;
};

/** A batch's text: mostly frames in a JSON array, sometimes malformed on purpose. */
export function batchText(r: Rand, firstSeq: number, maxFrames: number): string {
  const frames = Array.from({ length: r.size(maxFrames) }, (_, k) => frame(r, firstSeq + k));
  switch (r.int(0, 9)) {
    case 0:
      return deepNesting(r, 400_000);
    case 1:
      return JSON.stringify(frames).slice(0, r.int(0, 50)); // truncated
    case 2:
      return JSON.stringify(frames[0] ?? {}); // a frame, not an array
    case 3:
      return r.pick(['', 'null', '{}', '"x"', '1', '[]', '[[]]', '[null]', '{"__proto__":{"t":"emit"}}', '[{"t":"emit","seq":1,"e":"up","__proto__":{"x":1}}]']);
    case 4:
      return `[${'{"t":"echo","n":1},'.repeat(r.size(20_000))}{"t":"echo","n":2}]`;
    default:
      return JSON.stringify(frames);
  }
}

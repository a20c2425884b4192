import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { unencodableAt, walkPayload, type PayloadFinding } from '../../src/protocol/payload-check';
import { createPayloadWarner, describeChange } from '../../src/protocol/payload-warnings';

/** Every finding as `path issue`. */
function findings(data: unknown): string[] {
  const out: string[] = [];
  walkPayload(data, 'payload', (f) => void out.push(`${f.path} ${f.issue}`));
  return out;
}

describe('walkPayload: where JSON changes or fails', () => {
  it('names paths through nested arrays and objects, quoting keys that are not identifiers', () => {
    expect(findings({ a: [[1, { b: NaN }]], 'odd key': { 'x-y': Infinity }, $ok: { _1: -Infinity } })).toEqual([
      'payload.a[0][1].b non_finite',
      'payload["odd key"]["x-y"] non_finite',
      'payload.$ok._1 non_finite',
    ]);
  });

  it('each kind: function, symbol, undefined element, NaN, Map, Set, typed array, ArrayBuffer, WeakMap, Error, RegExp, class without fields', () => {
    class Empty {}
    const data = {
      f: () => 1,
      s: Symbol('s'),
      arr: [undefined, () => 1],
      n: NaN,
      m: new Map([[1, 2]]),
      set: new Set([1]),
      bytes: new Uint8Array([1, 2]),
      buffer: new ArrayBuffer(2),
      weak: new WeakMap(),
      error: new Error('x'),
      re: /x/,
      empty: new Empty(),
    };
    expect(findings(data)).toEqual([
      'payload.f dropped',
      'payload.s dropped',
      'payload.arr[0] dropped',
      'payload.arr[1] dropped',
      'payload.n non_finite',
      'payload.m collection',
      'payload.set collection',
      'payload.bytes binary',
      'payload.buffer binary',
      'payload.weak empty_instance',
      'payload.error empty_instance',
      'payload.re empty_instance',
      'payload.empty empty_instance',
    ]);
  });

  it('a top-level function or symbol is a finding; a top-level or field undefined is not (JSON leaves it out, apps rely on that)', () => {
    expect(findings(() => 1)).toEqual(['payload dropped']);
    expect(findings(Symbol('s'))).toEqual(['payload dropped']);
    expect(findings(undefined)).toEqual([]);
    expect(findings({ a: undefined, b: { c: undefined } })).toEqual([]);
  });

  it('finds a Map under arrays of objects, and looks inside class instances with fields', () => {
    class Point {
      constructor(
        public x: number,
        public y: unknown,
      ) {}
    }
    expect(findings({ items: [{}, {}, {}, { at: new Map() }] })).toEqual(['payload.items[3].at collection']);
    expect(findings([new Point(1, NaN)])).toEqual(['payload[0].y non_finite']);
  });

  it('honours toJSON (Date, an object, a BigInt given one) and boxed primitives, as JSON.stringify does', () => {
    expect(findings({ when: new Date(0), x: { toJSON: () => ({ m: new Map() }) }, num: Object(NaN), str: Object('s') })).toEqual([
      'payload.x.m collection',
      'payload.num non_finite',
    ]);
    const proto = BigInt.prototype as unknown as { toJSON?: () => string };
    proto.toJSON = function (this: bigint) {
      return this.toString();
    };
    try {
      expect(findings({ n: 12n })).toEqual([]);
      expect(unencodableAt({ n: 12n })).toBeUndefined();
    } finally {
      delete proto.toJSON;
    }
  });

  it('a plain object of another realm is plain; shared references are not cycles', () => {
    const foreign = runInNewContext('({ a: 1 })') as object;
    const empty = runInNewContext('({})') as object;
    const shared = { v: 1 };
    expect(findings({ foreign, empty, one: shared, two: shared, list: [shared, shared] })).toEqual([]);
  });

  it('walks payloads nested deeper than the stack (iteratively)', () => {
    let deep: unknown = { end: NaN };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const out: PayloadFinding[] = [];
    walkPayload(deep, 'p', (f) => void out.push(f));
    expect(out).toHaveLength(1);
    expect(out[0]!.path).toBe(`p${'[0]'.repeat(100_000)}.end`);
  });

  it('stops when the callback says so', () => {
    const seen: string[] = [];
    walkPayload([NaN, NaN, NaN], 'payload', (f) => {
      seen.push(f.path);
      return seen.length === 2;
    });
    expect(seen).toEqual(['payload[0]', 'payload[1]']);
  });
});

describe('unencodableAt: why JSON.stringify threw', () => {
  it('a BigInt, by path', () => {
    expect(unencodableAt({ items: [{}, {}, {}, { at: 1n }] })).toBe('payload.items[3].at is a BigInt, which JSON cannot carry (send it as a string)');
    expect(unencodableAt(5n)).toMatch(/^payload is a BigInt/);
    expect(unencodableAt(new Map([[1, 1n]]))).toBeUndefined(); // JSON never looks into a Map, nor does the walk
  });

  it('a cycle, naming where it refers back to', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(unencodableAt(a)).toBe('payload.self refers back to payload (a cycle)');
    const b: Record<string, unknown> = { list: [] };
    (b.list as unknown[]).push({ up: b.list });
    expect(unencodableAt({ b })).toBe('payload.b.list[0].up refers back to payload.b.list (a cycle)');
  });

  it('nothing to name for a toJSON or a getter that throws: the caller names what was thrown', () => {
    expect(unencodableAt({ x: { toJSON: () => { throw new Error('no'); } } })).toBeUndefined();
    const getter = Object.defineProperty({}, 'g', { enumerable: true, get: () => { throw new Error('nope'); } });
    expect(unencodableAt([getter])).toBeUndefined();
  });

  it('agrees with JSON.stringify: whatever it finds, JSON.stringify throws on', () => {
    const cases: unknown[] = [{ a: 1n }, [[[2n]]], (() => { const o: Record<string, unknown> = {}; o.o = { o }; return o; })()];
    for (const data of cases) {
      expect(() => JSON.stringify(data)).toThrow(TypeError);
      expect(unencodableAt(data)).toBeDefined();
    }
  });

  it('undefined when there is nothing to name (nesting deeper than the stack)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(unencodableAt(deep)).toBeUndefined();
  });
});

describe('createPayloadWarner', () => {
  it('says what JSON sends for each kind', () => {
    const say = (value: unknown, slot: PayloadFinding['slot'] = 'field') => {
      const found: PayloadFinding[] = [];
      walkPayload(slot === 'element' ? [value] : slot === 'top' ? value : { v: value }, 'p', (f) => void found.push(f));
      return describeChange(found[0]!);
    };
    expect(say(() => 1)).toBe('p.v is a function: JSON sends nothing (the field is left out)');
    expect(say(() => 1, 'top')).toBe('p is a function: JSON sends no data (it arrives as undefined)');
    expect(say(undefined, 'element')).toBe('p[0] is undefined: JSON sends null');
    expect(say(Infinity)).toBe('p.v is Infinity: JSON sends null');
    expect(say(new Uint8Array(1))).toBe('p.v is a Uint8Array: JSON sends an object of numbered keys (send an array or base64)');
    expect(say(new WeakMap())).toBe('p.v is a WeakMap: JSON sends {} (it has no own enumerable fields)');
  });

  it('warns once per event and place, and stops (saying so) after 500 places', () => {
    const lines: string[] = [];
    const check = createPayloadWarner((m) => lines.push(m));
    check('emit', 'a', { x: NaN });
    check('emit', 'a', { x: NaN });
    check('emit', 'b', { x: NaN });
    expect(lines).toEqual(['emit "a": payload.x is NaN: JSON sends null', 'emit "b": payload.x is NaN: JSON sends null']);
    const many = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, NaN]));
    check('emit', 'many', many);
    check('emit', 'more', many);
    expect(lines).toHaveLength(501);
    expect(lines[500]).toMatch(/no more warnings of this kind/);
  });

  it('leaves a BigInt or a cycle to the error the encoding throws', () => {
    const lines: string[] = [];
    createPayloadWarner((m) => lines.push(m))('emit', 'e', { n: 1n, later: NaN });
    expect(lines).toEqual([]);
  });
});

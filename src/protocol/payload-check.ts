/**
 * What JSON does to a payload, found by walking it the way JSON.stringify does (toJSON first, boxed primitives
 * unwrapped, own enumerable string keys only): where it fails (a BigInt, a cycle, a toJSON or getter that throws), and
 * in development where it silently changes the data (a Map sent as {}, NaN as null, a function dropped). Shared by
 * the client and the server. The walk is iterative, so a payload nested deeper than the stack is walked too.
 */

/** What JSON does at one place of a payload. The first three make JSON.stringify throw; the others change the data. */
export type PayloadIssue =
  | 'bigint'
  | 'cycle'
  | 'throws'
  /** A function, a symbol, or `undefined` where JSON cannot leave it out (an array element): dropped or `null`. */
  | 'dropped'
  /** NaN or ±Infinity: `null`. */
  | 'non_finite'
  /** A Map or a Set: `{}`, its entries lost. */
  | 'collection'
  /** A typed array or a DataView (an object of numbered keys) or an ArrayBuffer (`{}`). */
  | 'binary'
  /** An instance of a class with no own enumerable fields (WeakMap, RegExp, Error, Promise, ...): `{}`. */
  | 'empty_instance';

/** Where an issue is: `path` as the app would write it (`payload.items[3].at`), the value there (after toJSON). */
export interface PayloadFinding {
  path: string;
  issue: PayloadIssue;
  value: unknown;
  /** Where the value sits: the payload itself, an array element, or an object field. */
  slot: 'top' | 'element' | 'field';
  /** For a cycle: the path of the object it refers back to. For `throws`: what was thrown. */
  detail?: unknown;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

type Slot = PayloadFinding['slot'];
/** A value to look at (with the key JSON passes to its toJSON), or the end of an object's walk (its ancestry ends). */
type Step = { holder: unknown; key: string | number; path: string; slot: Slot } | { done: object };

/**
 * Walks `data` as JSON.stringify would and hands each finding to `found`; stops when `found` returns true. Undefined
 * object fields are not findings: JSON leaves them out, and apps rely on that.
 */
export function walkPayload(data: unknown, root: string, found: (finding: PayloadFinding) => boolean | void): void {
  /** The objects being walked (JSON.stringify's stack), with their paths: one met again is a cycle. */
  const ancestors = new Map<object, string>();
  const steps: Step[] = [{ holder: { '': data }, key: '', path: root, slot: 'top' }];
  const report = (path: string, issue: PayloadIssue, value: unknown, slot: Slot, detail?: unknown): boolean =>
    found(detail === undefined ? { path, issue, value, slot } : { path, issue, value, slot, detail }) === true;
  while (steps.length > 0) {
    const step = steps.pop()!;
    if ('done' in step) {
      ancestors.delete(step.done);
      continue;
    }
    const { path, slot } = step;
    let value: unknown;
    try {
      value = (step.holder as Record<string | number, unknown>)[step.key];
      if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
        const toJSON = (value as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === 'function') value = toJSON.call(value, String(step.key));
      }
    } catch (error) {
      if (report(path, 'throws', undefined, slot, error)) return;
      continue;
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) value = value.valueOf();
    switch (typeof value) {
      case 'bigint':
        if (report(path, 'bigint', value, slot)) return;
        continue;
      case 'number':
        if (!Number.isFinite(value) && report(path, 'non_finite', value, slot)) return;
        continue;
      case 'undefined':
        if (slot === 'element' && report(path, 'dropped', value, slot)) return;
        continue;
      case 'function':
      case 'symbol':
        if (report(path, 'dropped', value, slot)) return;
        continue;
      case 'object':
        if (value === null) continue;
        break;
      default: // a string or a boolean
        continue;
    }
    const object = value as object;
    const seen = ancestors.get(object);
    if (seen !== undefined) {
      if (report(path, 'cycle', object, slot, seen)) return;
      continue;
    }
    const kind = classify(object);
    if (kind !== undefined && report(path, kind, object, slot)) return;
    if (kind === 'binary') continue; // its numbered keys are the bytes, not the app's fields
    ancestors.set(object, path);
    steps.push({ done: object });
    const keys: (string | number)[] = Array.isArray(object) ? Array.from(object, (_, i) => i) : Object.keys(object);
    const childSlot: Slot = Array.isArray(object) ? 'element' : 'field';
    for (let i = keys.length - 1; i >= 0; i--) steps.push({ holder: object, key: keys[i]!, path: childPath(path, keys[i]!), slot: childSlot });
  }
}

/** What JSON flattens an object to, when that is not what the object holds. */
function classify(object: object): PayloadIssue | undefined {
  if (Array.isArray(object)) return undefined;
  if (object instanceof Map || object instanceof Set) return 'collection';
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) return 'binary';
  const proto = Object.getPrototypeOf(object) as object | null;
  // A plain object of any realm: its prototype is null or an Object.prototype (whose own prototype is null).
  if (proto === null || Object.getPrototypeOf(proto) === null) return undefined;
  return Object.keys(object).length === 0 ? 'empty_instance' : undefined;
}

/**
 * Why JSON.stringify threw on `data`, as a phrase naming the place: `payload.n is a BigInt`. Call it only after
 * JSON.stringify threw (the walk costs what the stringify did). A small walk of its own, not walkPayload: this one
 * ships in production builds. `undefined` when it finds no BigInt or cycle (nesting deeper than the stack, a toJSON or
 * a getter that throws: the caller names the error it caught).
 */
export function unencodableAt(data: unknown, root = 'payload'): string | undefined {
  const open = new Map<object, string>();
  const find = (value: unknown, key: string, path: string): string | undefined => {
    const toJSON = (value as { toJSON?: unknown } | null | undefined)?.toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, key);
    if (typeof value === 'bigint') return `${path} is a BigInt, which JSON cannot carry (send it as a string)`;
    if (typeof value !== 'object' || value === null) return undefined;
    if (open.has(value)) return `${path} refers back to ${open.get(value)} (a cycle)`;
    open.set(value, path);
    const array = Array.isArray(value);
    for (const k of Object.keys(value)) {
      const found = find((value as Record<string, unknown>)[k], k, childPath(path, array ? Number(k) : k));
      if (found) return found;
    }
    open.delete(value);
    return undefined;
  };
  try {
    return find(data, '', root);
  } catch {
    return undefined;
  }
}

import { describe, expect, it } from 'vitest';
import { recallTransport, rememberTransport } from '../../src/client/transport-memory';

const URL_A = 'https://rt.example/a';
const URL_B = 'https://rt.example/b';
const KEY_A = `realtime-fallback:transport:${URL_A}`;

/** The part of Storage the module uses, backed by a Map. */
class MemoryStorage {
  readonly data = new Map<string, string>();
  getItem(key: string): string | null {
    return this.data.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.data.set(key, String(value));
  }
  removeItem(key: string): void {
    this.data.delete(key);
  }
}

class ThrowingStorage {
  constructor(private readonly which: 'getItem' | 'setItem' | 'removeItem' | 'all', private readonly inner = new MemoryStorage()) {}
  private check(op: string): void {
    if (this.which === 'all' || this.which === op) throw new DOMException('denied', 'SecurityError');
  }
  getItem(key: string): string | null {
    this.check('getItem');
    return this.inner.getItem(key);
  }
  setItem(key: string, value: string): void {
    this.check('setItem');
    this.inner.setItem(key, value);
  }
  removeItem(key: string): void {
    this.check('removeItem');
    this.inner.removeItem(key);
  }
}

describe('rememberTransport / recallTransport', () => {
  it('remembers a fallback per URL until it expires', () => {
    const storage = new MemoryStorage();
    rememberTransport(storage, URL_A, 'sse', false, 1000, 5000);
    expect(JSON.parse(storage.data.get(KEY_A)!)).toEqual({ transport: 'sse', expires: 6000 });
    expect(recallTransport(storage, URL_A, 5000)).toBe('sse');
    expect(recallTransport(storage, URL_A, 5999)).toBe('sse');
    expect(recallTransport(storage, URL_B, 5000)).toBeNull();
  });

  it('forgets an expired memory and removes its key', () => {
    const storage = new MemoryStorage();
    rememberTransport(storage, URL_A, 'polling', false, 1000, 0);
    expect(recallTransport(storage, URL_A, 1000)).toBeNull(); // expiry is exclusive
    expect(storage.data.has(KEY_A)).toBe(false);
    expect(recallTransport(storage, URL_A, 0)).toBeNull(); // gone for good
  });

  it('remembering the preferred transport forgets the fallback', () => {
    const storage = new MemoryStorage();
    rememberTransport(storage, URL_A, 'polling', false, 60_000, 0);
    rememberTransport(storage, URL_B, 'sse', false, 60_000, 0);
    rememberTransport(storage, URL_A, 'websocket', true, 60_000, 10);
    expect(storage.data.has(KEY_A)).toBe(false);
    expect(recallTransport(storage, URL_A, 20)).toBeNull();
    expect(recallTransport(storage, URL_B, 20)).toBe('sse');
  });

  it('ttl 0 disables the memory', () => {
    const storage = new MemoryStorage();
    rememberTransport(storage, URL_A, 'sse', false, 60_000, 0);
    rememberTransport(storage, URL_A, 'polling', false, 0, 0);
    expect(storage.data.size).toBe(0);
    expect(recallTransport(storage, URL_A, 0)).toBeNull();
  });

  it('a later fallback replaces an earlier one', () => {
    const storage = new MemoryStorage();
    rememberTransport(storage, URL_A, 'sse', false, 1000, 0);
    rememberTransport(storage, URL_A, 'polling', false, 1000, 500);
    expect(recallTransport(storage, URL_A, 1200)).toBe('polling');
  });

  it.each([
    ['garbage JSON', '{not json'],
    ['JSON null', 'null'],
    ['a bare number', '42'],
    ['an unknown transport', JSON.stringify({ transport: 'carrier-pigeon', expires: 1e15 })],
    ['a missing transport', JSON.stringify({ expires: 1e15 })],
    ['a string expiry', JSON.stringify({ transport: 'sse', expires: '99999999999' })],
    ['a missing expiry', JSON.stringify({ transport: 'sse' })],
  ])('%s recalls as null without throwing', (_what, raw) => {
    const storage = new MemoryStorage();
    storage.setItem(KEY_A, raw);
    expect(() => recallTransport(storage, URL_A, 0)).not.toThrow();
    expect(recallTransport(storage, URL_A, 0)).toBeNull();
  });

  it('a value with no valid expiry is removed', () => {
    const storage = new MemoryStorage();
    storage.setItem(KEY_A, JSON.stringify({ transport: 'sse', expires: 'soon' }));
    recallTransport(storage, URL_A, 0);
    expect(storage.data.has(KEY_A)).toBe(false);
  });

  it.each(['getItem', 'removeItem', 'all'] as const)('recall survives a storage whose %s throws', (which) => {
    const inner = new MemoryStorage();
    inner.setItem(KEY_A, JSON.stringify({ transport: 'sse', expires: 10 })); // expired at now=100: removeItem runs
    const storage = new ThrowingStorage(which, inner);
    expect(() => recallTransport(storage, URL_A, 100)).not.toThrow();
    expect(recallTransport(storage, URL_A, 100)).toBeNull();
  });

  it.each(['setItem', 'removeItem', 'all'] as const)('remember survives a storage whose %s throws', (which) => {
    const storage = new ThrowingStorage(which);
    expect(() => rememberTransport(storage, URL_A, 'sse', false, 1000, 0)).not.toThrow();
    expect(() => rememberTransport(storage, URL_A, 'websocket', true, 1000, 0)).not.toThrow();
  });

  it('no storage: recall is null and remember does nothing', () => {
    expect(recallTransport(null, URL_A, 0)).toBeNull();
    expect(() => rememberTransport(null, URL_A, 'sse', false, 1000, 0)).not.toThrow();
  });
});

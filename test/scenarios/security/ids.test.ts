/**
 * Session ids, resume secrets and connection ids come from node:crypto's CSPRNG (randomBytes), with at least
 * 128 bits for ids and secrets (protocol §3).
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, randomBytes: vi.fn(actual.randomBytes) };
});

const crypto = await import('node:crypto');
const { Session } = await import('../../../src/server/session');
const { newConnectionId } = await import('../../../src/server/session-manager');

const hooks = { publish: () => {}, onConnectionChange: () => {}, logger: { debug() {}, warn() {}, error() {} } };
const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe('session ids and secrets', () => {
  it('are drawn from crypto.randomBytes: 16 bytes (128 bits) per id, 24 bytes (192 bits) per secret', () => {
    const spy = vi.mocked(crypto.randomBytes);
    spy.mockClear();
    const s = new Session(hooks, { maxMessages: 1, maxBytes: 1 });
    expect(spy.mock.calls.map((c) => c[0])).toEqual([16, 24]);
    expect(s.id).toBe((spy.mock.results[0]!.value as Buffer).toString('base64url'));
    expect(s.secret).toBe((spy.mock.results[1]!.value as Buffer).toString('base64url'));
  });

  it('1000 of them are unique, base64url, ≥ 128 bits, and the secret is not derived from the id', () => {
    const ids = new Set<string>();
    const secrets = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const s = new Session(hooks, { maxMessages: 1, maxBytes: 1 });
      expect(s.id).toMatch(BASE64URL);
      expect(s.secret).toMatch(BASE64URL);
      expect(Buffer.from(s.id, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
      expect(Buffer.from(s.secret, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
      expect(s.secret).not.toContain(s.id);
      ids.add(s.id);
      secrets.add(s.secret);
      for (const c of s.id) chars.add(c);
    }
    expect(ids.size).toBe(1000);
    expect(secrets.size).toBe(1000);
    // 22 000 characters drawn from 64: every symbol shows up (a non-random or narrow source would not).
    expect(chars.size).toBe(64);
  });

  it('compares a presented secret in constant time and refuses near misses', () => {
    const s = new Session(hooks, { maxMessages: 1, maxBytes: 1 });
    expect(s.checkSecret(s.secret)).toBe(true);
    expect(s.checkSecret(s.secret.slice(0, -1))).toBe(false);
    expect(s.checkSecret(`${s.secret}x`)).toBe(false);
    expect(s.checkSecret('')).toBe(false);
  });

  it('connection ids are random too (96 bits; they are not credentials: polls also need the secret)', () => {
    const spy = vi.mocked(crypto.randomBytes);
    spy.mockClear();
    const cids = new Set(Array.from({ length: 1000 }, () => newConnectionId()));
    expect(cids.size).toBe(1000);
    expect(spy).toHaveBeenCalledTimes(1000);
    expect(spy.mock.calls.every((c) => c[0] === 12)).toBe(true);
  });
});

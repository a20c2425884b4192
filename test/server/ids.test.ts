import { describe, expect, it } from 'vitest';
import { newConnectionId, randomId } from '../../src/server/ids';

describe('ids', () => {
  it('session ids carry 16 random bytes and connection ids 12, base64url', () => {
    expect(Buffer.from(randomId(), 'base64url')).toHaveLength(16);
    expect(Buffer.from(newConnectionId(), 'base64url')).toHaveLength(12);
    expect(randomId(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(new Set(Array.from({ length: 100 }, () => randomId())).size).toBe(100);
  });
});

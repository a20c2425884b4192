import { describe, expect, it } from 'vitest';
import { AVOID_MS, createStaleStrikes, STRIKES_TO_AVOID } from '../../src/client/stale-strikes';

describe('stale strikes', () => {
  it('avoids a transport for AVOID_MS once it earned its strikes, then counts from one again', () => {
    const s = createStaleStrikes();
    expect(STRIKES_TO_AVOID).toBe(2);
    s.strike('sse', 0);
    expect(s.avoided('sse', 0)).toBe(false);
    s.strike('sse', 10);
    expect(s.avoided('sse', 10)).toBe(true);
    expect(s.avoided('polling', 10)).toBe(false);
    expect(s.avoided('sse', 10 + AVOID_MS - 1)).toBe(true);
    expect(s.avoided('sse', 10 + AVOID_MS)).toBe(false);
    s.strike('sse', 20 + AVOID_MS);
    expect(s.avoided('sse', 20 + AVOID_MS)).toBe(false); // one strike again, not two
  });

  it('strikes further apart than AVOID_MS do not add up', () => {
    const s = createStaleStrikes();
    s.strike('polling', 0);
    s.strike('polling', AVOID_MS);
    expect(s.avoided('polling', AVOID_MS)).toBe(false);
    s.strike('polling', AVOID_MS + 1);
    expect(s.avoided('polling', AVOID_MS + 1)).toBe(true);
  });
});

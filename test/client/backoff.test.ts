import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, type BackoffPolicy } from '../../src/client/backoff';
import { seededRandom } from '../support/seeded-random';


const noJitter: BackoffPolicy = { initialMs: 100, maxMs: 10_000, factor: 2, jitter: 0 };
const fixed = (value: number) => () => value;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('backoffDelay without jitter', () => {
  it('grows by the factor on every attempt', () => {
    const delays = [0, 1, 2, 3, 4].map((a) => backoffDelay(a, noJitter, fixed(0.7)));
    expect(delays).toEqual([100, 200, 400, 800, 1600]);
  });

  it('uses the factor it is given', () => {
    const delays = [0, 1, 2].map((a) => backoffDelay(a, { ...noJitter, factor: 3 }, fixed(0)));
    expect(delays).toEqual([100, 300, 900]);
  });

  it('stays at initialMs with factor 1', () => {
    expect(backoffDelay(7, { ...noJitter, factor: 1 }, fixed(0))).toBe(100);
  });

  it('is capped at maxMs', () => {
    expect(backoffDelay(6, noJitter, fixed(0))).toBe(6400);
    expect(backoffDelay(7, noJitter, fixed(0))).toBe(10_000);
    expect(backoffDelay(30, noJitter, fixed(0))).toBe(10_000);
  });

  it('stays at maxMs when the exponential overflows to Infinity', () => {
    expect(backoffDelay(5000, noJitter, fixed(0))).toBe(10_000);
  });

  it('treats a negative attempt as attempt 0', () => {
    expect(backoffDelay(-3, noJitter, fixed(0))).toBe(100);
  });

  it('stays 0 with initialMs 0, even when factor^attempt overflows', () => {
    // 0 × Infinity is NaN, which used to be mistaken for "overflowed" and became maxMs.
    const zero: BackoffPolicy = { initialMs: 0, maxMs: 10_000, factor: 2, jitter: 0 };
    expect(backoffDelay(3, zero, fixed(0))).toBe(0);
    expect(backoffDelay(5000, zero, fixed(0))).toBe(0);
  });
});

describe('backoffDelay with jitter', () => {
  it('full jitter (1) draws from [0, base]', () => {
    const full: BackoffPolicy = { ...noJitter, jitter: 1 };
    expect(backoffDelay(2, full, fixed(0))).toBe(0);
    expect(backoffDelay(2, full, fixed(0.5))).toBe(200);
    expect(backoffDelay(2, full, fixed(0.999999))).toBe(400);
  });

  it('partial jitter draws from [base × (1 − jitter), base]', () => {
    const half: BackoffPolicy = { ...noJitter, jitter: 0.5 };
    expect(backoffDelay(3, half, fixed(0))).toBe(400);
    expect(backoffDelay(3, half, fixed(0.5))).toBe(600);
    expect(backoffDelay(3, half, fixed(0.999999))).toBe(800);
  });

  it('jitters the capped delay, not the uncapped one', () => {
    const capped: BackoffPolicy = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 };
    expect(backoffDelay(20, capped, fixed(0))).toBe(800);
    expect(backoffDelay(20, capped, fixed(0.999999))).toBe(1000);
  });

  it('returns whole milliseconds within the range for any draw', () => {
    const policy: BackoffPolicy = { initialMs: 333, maxMs: 50_000, factor: 1.7, jitter: 0.3 };
    const random = seededRandom(7);
    for (let attempt = 0; attempt < 15; attempt++) {
      const base = Math.min(50_000, 333 * 1.7 ** attempt);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, policy, random);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.7));
        expect(d).toBeLessThanOrEqual(Math.ceil(base));
      }
    }
  });

  it('draws afresh on every call: two consecutive calls of the same attempt differ', () => {
    const policy: BackoffPolicy = { ...noJitter, jitter: 1 };
    const random = vi.fn(seededRandom(42));
    const first = backoffDelay(5, policy, random);
    const second = backoffDelay(5, policy, random);
    expect(random).toHaveBeenCalledTimes(2);
    expect(first).not.toBe(second);
  });

  it('uses Math.random by default, once per call', () => {
    const spy = vi.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(0.999999);
    const policy: BackoffPolicy = { ...noJitter, jitter: 1 };
    expect(backoffDelay(1, policy)).toBe(0);
    expect(backoffDelay(1, policy)).toBe(200);
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('1000 draws spread over the whole range instead of clustering', () => {
    const policy: BackoffPolicy = { initialMs: 1000, maxMs: 10_000, factor: 2, jitter: 1 };
    const random = seededRandom(2024);
    const draws = Array.from({ length: 1000 }, () => backoffDelay(10, policy, random)); // base = maxMs
    const buckets = new Array<number>(10).fill(0);
    for (const d of draws) buckets[Math.min(9, Math.floor(d / 1000))]!++;
    // Uniform would put ~100 in each tenth of [0, 10000]; a cluster leaves some nearly empty.
    for (const count of buckets) expect(count).toBeGreaterThan(60);
    expect(Math.min(...draws)).toBeLessThan(200);
    expect(Math.max(...draws)).toBeGreaterThan(9800);
    expect(new Set(draws).size).toBeGreaterThan(900);
  });
});

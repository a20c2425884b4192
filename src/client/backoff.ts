/** Exponential backoff with jitter; pure, so it can be tested without timers. */
export interface BackoffPolicy {
  /** Delay of the first retry, in ms, before jitter. */
  initialMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /**
   * Share of the delay that is random, 0..1: the delay is drawn from [base × (1 − jitter), base].
   * 1 is "full jitter". Drawn on every call, so clients cut off together do not return together.
   */
  jitter: number;
}

/** Delay before retry number `attempt` (0-based). `random` returns a number in [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = policy.initialMs === 0 ? 0 : policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt)); // 0 × Infinity is NaN
  const base = Math.min(policy.maxMs, Number.isFinite(exp) ? exp : policy.maxMs);
  const spread = base * policy.jitter;
  return Math.round(base - spread + random() * spread);
}

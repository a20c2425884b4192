import { describe, expect, it } from 'vitest';
import { ClientQuota } from '../../src/server/client-quota';
import type { Logger } from '../../src/server/types';

function quota(maxSessionsPerClient: number, sessionGraceMs = 30_000) {
  const warnings: unknown[] = [];
  const logger: Logger = { debug: () => {}, warn: (_m, meta) => warnings.push(meta), error: () => {} };
  return { quota: new ClientQuota({ maxSessionsPerClient, sessionGraceMs, logger }), warnings };
}

describe('ClientQuota', () => {
  it('refuses a client its next session at the limit, with a warning and the grace period to wait', () => {
    const { quota: q, warnings } = quota(2, 2500);
    q.add('s1', '10.0.0.1');
    expect(q.check('10.0.0.1')).toBeNull();
    q.add('s2', '10.0.0.1');
    expect(q.check('10.0.0.1')).toEqual({ message: 'too many sessions for this client (limit 2)', retryAfter: 3 });
    expect(warnings).toEqual([{ client: '10.0.0.1', limit: 2 }]);
    expect(q.check('10.0.0.2')).toBeNull(); // another client has its own count
    expect(quota(1, 10).quota.check(undefined)).toBeNull();
  });

  it('a released session frees its place once, however often it is released', () => {
    const { quota: q } = quota(1);
    q.add('s1', 'c');
    expect(q.check('c')).not.toBeNull();
    q.release('s1');
    q.release('s1');
    expect(q.check('c')).toBeNull();
    q.add('s2', 'c');
    q.release('unknown');
    expect(q.check('c')).not.toBeNull();
  });

  it('counts sessions without a client key under one key, and forgets everything on clear', () => {
    const { quota: q } = quota(1, 1);
    q.add('s1', '');
    expect(q.check(undefined)).toEqual({ message: 'too many sessions for this client (limit 1)', retryAfter: 1 });
    q.clear();
    expect(q.check(undefined)).toBeNull();
    q.release('s1'); // nothing left to release
    expect(q.check(undefined)).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { SessionSecret } from '../../src/server/session-secret';

describe('SessionSecret', () => {
  it('a resume rotates; the previous one is good until the current one is used; a resume with it rotates nothing', () => {
    const secret = new SessionSecret();
    const s0 = secret.value.secret;
    expect(secret.presented).toBe(false);
    expect(secret.use('wrong', true)).toBeNull();
    expect(secret.presented).toBe(false);
    const r1 = secret.use(s0, true)!;
    expect(r1.changed).toBe(true);
    expect(r1.secrets.previous).toBe(s0);
    const s1 = r1.secrets.secret;
    expect(s1).not.toBe(s0);
    expect(secret.presented).toBe(true);
    expect(secret.use(s0, true)).toEqual({ changed: false, secrets: { secret: s1, previous: s0 } });
    expect(secret.use(s0, false)).toEqual({ changed: false, secrets: { secret: s1, previous: s0 } });
    expect(secret.use(s1, false)).toEqual({ changed: true, secrets: { secret: s1, previous: null } });
    expect(secret.match(s0)).toBeNull();
    expect(new SessionSecret({ secret: 'b', previous: 'a' }).match('a')).toBe('previous');
  });
});

describe('SessionSecret and its store', () => {
  it('tells the store each use it must record: every resume (changed or not) and each retired previous secret', () => {
    const written: [string, { secret: string; previous: string | null }][] = [];
    const secret = new SessionSecret(undefined, (expected, secrets) => written.push([expected, secrets]));
    const s0 = secret.value.secret;
    expect(secret.use(s0, false)).toEqual({ changed: false, secrets: { secret: s0, previous: null } });
    expect(written).toEqual([]); // nothing changed, not a resume
    const s1 = secret.use(s0, true)!.secrets.secret;
    expect(written).toEqual([[s0, { secret: s1, previous: s0 }]]);
    secret.use(s0, true); // a resume with the previous one changes nothing, and is still written
    expect(written.at(-1)).toEqual([s1, { secret: s1, previous: s0 }]);
    secret.use(s1, false); // the client presents the new one: the previous one dies
    expect(written.at(-1)).toEqual([s1, { secret: s1, previous: null }]);
    secret.use('wrong', true);
    expect(written).toHaveLength(3);
  });
});

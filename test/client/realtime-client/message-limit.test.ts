/**
 * The client's outbox takes a message of the server's limit: it counts a message as the limit does (`{e, d}` JSON),
 * so with default options (1 MiB outbox, 1 MiB limit) an emit of exactly the limit is queued, not `outbox_full`.
 */
import { describe, expect, it } from 'vitest';
import { rig, useMsw } from './harness';

useMsw();

const MIB = 1024 * 1024;
const sized = (e: string, n: number): string => 'x'.repeat(n - JSON.stringify({ e, d: '' }).length);

describe('a message of the limit fits the default outbox', () => {
  it('an emit of exactly 1 MiB (the default limit) is queued, not outbox_full; 1 MiB + 1 is payload_too_large', () => {
    const r = rig();
    expect(() => r.client.emit('say', sized('say', MIB))).not.toThrow();
    expect(r.client.queued).toEqual({ messages: 1, bytes: MIB });
    expect(() => r.client.emit('say', sized('say', MIB + 1))).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
  });
});

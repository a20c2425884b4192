/**
 * The client's outbox takes a message of the server's limit: its frame (the message plus type and seq) is larger than
 * the limit, so the default `maxQueuedBytes` (1 MiB) is raised to one frame of the announced `maxFrame`; a
 * `maxQueuedBytes` the app chose is kept as given.
 */
import { describe, expect, it } from 'vitest';
import { outboxLimits, resolveOptions } from '../../../src/client/options';
import { rig, useMsw } from './harness';

useMsw();

const MIB = 1024 * 1024;
const sized = (e: string, n: number): string => 'x'.repeat(n - JSON.stringify({ e, d: '' }).length);

describe('a message of the limit fits the outbox', () => {
  it('with default options, an emit of exactly 1 MiB (the default limit) is queued, not outbox_full; 1 MiB + 1 is payload_too_large', () => {
    const r = rig();
    expect(() => r.client.emit('say', sized('say', MIB))).not.toThrow();
    expect(r.client.queued.messages).toBe(1);
    expect(() => r.client.emit('say', sized('say', MIB + 1))).toThrow(expect.objectContaining({ code: 'payload_too_large' }));
  });

  it('the default follows a larger announced limit; a maxQueuedBytes the app chose is kept', () => {
    let maxFrame = MIB;
    const byDefault = outboxLimits(resolveOptions(), () => maxFrame);
    expect(byDefault.maxBytes).toBeGreaterThan(MIB);
    maxFrame = 4 * MIB;
    expect(byDefault.maxBytes).toBeGreaterThan(4 * MIB);
    expect(outboxLimits(resolveOptions({ maxQueuedBytes: 200 }), () => maxFrame).maxBytes).toBe(200);
  });
});

// The link a sharing tab's client connects over: an attempt prepared before the tab left its group (its client
// closed meanwhile) gets a link with no group, which fails like a dropped connection instead of throwing.
import { describe, expect, it } from 'vitest';
import type { TransportFailure } from '../../../src/transports/transport';
import { TabLink } from '../../../src/client/share/tab-link';

describe('TabLink', () => {
  it('without a group, connect() fails once, asynchronously, and send/close do nothing', async () => {
    const failures: TransportFailure[] = [];
    const link = new TabLink(null, { onFrame: () => {}, onFailure: (f) => void failures.push(f) });
    expect(() => link.connect()).not.toThrow();
    expect(failures).toEqual([]); // not from inside connect(): the connector has not stored the attempt yet
    await Promise.resolve();
    expect(failures).toEqual([{ kind: 'network', message: 'this tab left its group' }]);
    expect(() => link.send([{ t: 'ack', id: 1 }])).not.toThrow();
    link.close();
    await Promise.resolve();
    expect(failures).toHaveLength(1);
  });

  it('with a group, attaches on connect and detaches once on close', () => {
    const calls: string[] = [];
    const owner = { leaderTransport: 'sse' as const, attach: () => void calls.push('attach'), detach: () => void calls.push('detach'), send: () => void calls.push('send') };
    const link = new TabLink(owner, { onFrame: () => {}, onFailure: () => void calls.push('failure') });
    expect(link.name).toBe('sse');
    link.connect();
    link.send([{ t: 'ack', id: 1 }]);
    link.close();
    link.close();
    link.send([{ t: 'ack', id: 2 }]);
    expect(calls).toEqual(['attach', 'send', 'detach']);
  });
});

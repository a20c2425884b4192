import { describe, expect, it } from 'vitest';
import { deliverTo } from '../../src/server/bus-delivery';
import { PreparedMessage } from '../../src/server/prepared-message';
import type { Session } from '../../src/server/session';

/** The part of a session bus delivery reads and writes. */
function fakeSession(id: string, rooms: string[] = [], busPosition?: string) {
  const got: string[] = [];
  const s = { id, busPosition, inRoom: (r: string) => rooms.includes(r), emitPrepared: (m: PreparedMessage) => got.push(m.text(1)) };
  return { session: s as unknown as Session, got, state: s };
}

describe('deliverTo', () => {
  it('delivers an event to the sessions it targets only', () => {
    const inRoom = fakeSession('a', ['lobby']);
    const outside = fakeSession('b');
    const message = new PreparedMessage('news', 1);
    for (const f of [inRoom, outside]) deliverTo(f.session, { rooms: ['lobby'] }, message);
    expect(inRoom.got).toHaveLength(1);
    expect(outside.got).toHaveLength(0);
  });

  it('with positions, each session takes each event once and records how far it got', () => {
    const restored = fakeSession('a', [], '0000000005-0'); // its previous carrier had read further
    const message = new PreparedMessage('news', 1);
    deliverTo(restored.session, {}, message, '0000000004-0');
    deliverTo(restored.session, {}, message, '0000000005-0');
    expect(restored.got).toHaveLength(0);
    deliverTo(restored.session, {}, message, '0000000006-0');
    deliverTo(restored.session, {}, message, '0000000006-0');
    expect(restored.got).toHaveLength(1);
    expect(restored.state.busPosition).toBe('0000000006-0');
    const notTargeted = fakeSession('b');
    deliverTo(notTargeted.session, { rooms: ['elsewhere'] }, message, '0000000007-0');
    expect(notTargeted.state.busPosition).toBe('0000000007-0'); // taken, though not for it
  });
});

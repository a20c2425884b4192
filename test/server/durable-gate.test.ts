import { describe, expect, it, vi } from 'vitest';
import { DurableGate } from '../../src/server/durable-gate';
import { recordingJournal } from './journal-fake';

describe('DurableGate', () => {
  it('without a journal, sends at once and is always durable', async () => {
    const gate = new DurableGate('s1', undefined, () => {});
    const send = vi.fn();
    gate.after(send);
    expect(send).toHaveBeenCalledTimes(1);
    expect(await gate.durable()).toBe(true);
  });

  it('holds what the client would see until the journal has everything written, in order, one reaction per turn', async () => {
    const journal = recordingJournal();
    const durable = vi.spyOn(journal, 'durable');
    const gate = new DurableGate('s1', journal, () => {});
    const sent: number[] = [];
    gate.after(() => sent.push(1));
    gate.after(() => sent.push(2));
    expect(sent).toEqual([]);
    expect(durable).toHaveBeenCalledWith('s1');
    await journal.settle();
    expect(sent).toEqual([1, 2]);
    gate.after(() => sent.push(3)); // a new turn: a new promise
    expect(sent).toEqual([1, 2]);
    await journal.settle();
    expect(sent).toEqual([1, 2, 3]);
  });

  it('a failed write sends nothing held, reports the failure, and durable() answers false', async () => {
    const journal = recordingJournal();
    const failures: unknown[] = [];
    const gate = new DurableGate('s1', journal, (err) => failures.push(err));
    const send = vi.fn();
    gate.after(send);
    const answer = gate.durable();
    await journal.settle(false);
    expect(send).not.toHaveBeenCalled();
    expect(await answer).toBe(false);
    expect(failures).toHaveLength(2); // once for the held sends, once for durable()
  });
});

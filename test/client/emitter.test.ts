import { describe, expect, it, vi } from 'vitest';
import { TypedEmitter } from '../../src/client/emitter';

interface Events {
  chat: { text: string };
  count: number;
  other: string;
}

describe('TypedEmitter', () => {
  it('delivers the payload to every listener of the event, in subscription order', () => {
    const em = new TypedEmitter<Events>();
    const calls: string[] = [];
    em.on('chat', (m) => calls.push(`a:${m.text}`));
    em.on('chat', (m) => calls.push(`b:${m.text}`));
    em.on('other', (s) => calls.push(`other:${s}`));
    em.emit('chat', { text: 'hi' });
    expect(calls).toEqual(['a:hi', 'b:hi']);
  });

  it('emitting an event nobody listens to does nothing', () => {
    const em = new TypedEmitter<Events>();
    expect(() => em.emit('count', 1)).not.toThrow();
    expect(em.listenerCount()).toBe(0);
  });

  it('on() returns an unsubscribe function that is safe to call twice', () => {
    const em = new TypedEmitter<Events>();
    const a = vi.fn();
    const b = vi.fn();
    const offA = em.on('count', a);
    em.on('count', b);
    offA();
    offA();
    em.emit('count', 3);
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledWith(3);
    expect(em.listenerCount('count')).toBe(1);
  });

  it('once() fires a single time, then removes itself', () => {
    const em = new TypedEmitter<Events>();
    const cb = vi.fn();
    em.once('count', cb);
    expect(em.listenerCount('count')).toBe(1);
    em.emit('count', 1);
    em.emit('count', 2);
    expect(cb).toHaveBeenCalledTimes(1);
    expect(cb).toHaveBeenCalledWith(1);
    expect(em.listenerCount('count')).toBe(0);
  });

  it('once() can be cancelled before it fires through the function it returns', () => {
    const em = new TypedEmitter<Events>();
    const cb = vi.fn();
    const off = em.once('count', cb);
    off();
    em.emit('count', 1);
    expect(cb).not.toHaveBeenCalled();
    expect(em.listenerCount()).toBe(0);
  });

  it('a once() listener that emits the same event is not re-entered', () => {
    const em = new TypedEmitter<Events>();
    const seen: number[] = [];
    em.once('count', (n) => {
      seen.push(n);
      em.emit('count', n + 1);
    });
    em.emit('count', 1);
    expect(seen).toEqual([1]);
  });

  it('off() removes a listener by identity, only from the event named', () => {
    const em = new TypedEmitter<Events>();
    const cb = vi.fn();
    const kept = vi.fn();
    em.on('other', cb);
    em.on('other', kept);
    em.off('chat', cb as never); // a different event: no effect
    em.off('other', () => {}); // a different function: no effect
    expect(em.listenerCount('other')).toBe(2);
    em.off('other', cb);
    em.emit('other', 'x');
    expect(cb).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledWith('x');
  });

  it('a throwing listener does not stop the others and reaches onListenerError', () => {
    const onListenerError = vi.fn();
    const em = new TypedEmitter<Events>(onListenerError);
    const boom = new Error('listener failed');
    const before = vi.fn();
    const after = vi.fn();
    em.on('count', before);
    em.on('count', () => {
      throw boom;
    });
    em.on('count', after);
    expect(() => em.emit('count', 7)).not.toThrow();
    expect(before).toHaveBeenCalledWith(7);
    expect(after).toHaveBeenCalledWith(7);
    expect(onListenerError).toHaveBeenCalledTimes(1);
    expect(onListenerError).toHaveBeenCalledWith(boom, 'count');
  });

  it('swallows listener errors when no onListenerError is given', () => {
    const em = new TypedEmitter<Events>();
    const after = vi.fn();
    em.on('other', () => {
      throw new Error('x');
    });
    em.on('other', after);
    expect(() => em.emit('other', 'y')).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('a listener added during an emit is not called by that emit', () => {
    const em = new TypedEmitter<Events>();
    const late = vi.fn();
    em.on('count', () => {
      em.on('count', late);
    });
    em.emit('count', 1);
    expect(late).not.toHaveBeenCalled();
    em.emit('count', 2);
    expect(late).toHaveBeenCalledWith(2);
  });

  it('listenerCount counts per event and in total', () => {
    const em = new TypedEmitter<Events>();
    em.on('chat', () => {});
    const off = em.on('chat', () => {});
    em.on('count', () => {});
    em.once('other', () => {});
    expect(em.listenerCount('chat')).toBe(2);
    expect(em.listenerCount('count')).toBe(1);
    expect(em.listenerCount()).toBe(4);
    off();
    em.emit('other', 'fires once');
    expect(em.listenerCount('chat')).toBe(1);
    expect(em.listenerCount('other')).toBe(0);
    expect(em.listenerCount()).toBe(2);
  });

  it('clear() removes every listener of every event', () => {
    const em = new TypedEmitter<Events>();
    const a = vi.fn();
    const b = vi.fn();
    em.on('chat', a);
    em.once('count', b);
    em.clear();
    em.emit('chat', { text: 'x' });
    em.emit('count', 1);
    expect(a).not.toHaveBeenCalled();
    expect(b).not.toHaveBeenCalled();
    expect(em.listenerCount()).toBe(0);
  });
});

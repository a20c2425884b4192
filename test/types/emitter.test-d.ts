import { describe, expectTypeOf, it } from 'vitest';
import { TypedEmitter, type Listener } from '../../src/client/emitter';

/** An interface (no index signature) must work as an event map. */
interface Events {
  chat: { from: string; text: string };
  count: number;
  done: undefined;
}

describe('TypedEmitter types', () => {
  const em = new TypedEmitter<Events>();

  it('types each listener payload from the event map', () => {
    em.on('chat', (msg) => {
      expectTypeOf(msg).toEqualTypeOf<{ from: string; text: string }>();
    });
    em.once('count', (n) => {
      expectTypeOf(n).toEqualTypeOf<number>();
    });
    expectTypeOf(em.on).parameter(0).toEqualTypeOf<'chat' | 'count' | 'done'>();
    expectTypeOf<Listener<number>>().toEqualTypeOf<(payload: number) => void>();
  });

  it('on() and once() return an unsubscribe function; off() returns nothing', () => {
    expectTypeOf(em.on('count', () => {})).toEqualTypeOf<() => void>();
    expectTypeOf(em.once('count', () => {})).toEqualTypeOf<() => void>();
    expectTypeOf(em.off('count', () => {})).toEqualTypeOf<void>();
  });

  it('accepts the right payloads', () => {
    em.emit('chat', { from: 'a', text: 'b' });
    em.emit('count', 1);
    em.emit('done', undefined);
  });

  it('rejects unknown event names', () => {
    // @ts-expect-error 'nope' is not an event
    em.on('nope', () => {});
    // @ts-expect-error 'nope' is not an event
    em.emit('nope', 1);
    // @ts-expect-error 'nope' is not an event
    em.listenerCount('nope');
  });

  it('rejects wrong payloads and listeners', () => {
    // @ts-expect-error count carries a number
    em.emit('count', '1');
    // @ts-expect-error chat needs text
    em.emit('chat', { from: 'a' });
    // @ts-expect-error a payload is required
    em.emit('count');
    // @ts-expect-error the listener expects a string, count carries a number
    em.on('count', (n: string) => n);
  });

  it('needs an object event map', () => {
    // @ts-expect-error a string is not an event map
    new TypedEmitter<string>();
  });
});

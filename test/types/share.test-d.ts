import { describe, expectTypeOf, it } from 'vitest';
import { RealtimeClient as DefaultClient, type LifecycleEvents } from '../../src/index';
import { RealtimeClient, RealtimeError } from '../../src/share';

interface ServerEvents {
  chat: { from: string; text: string };
}
interface ClientEvents {
  say: string;
}

describe('realtime-fallback/share public types', () => {
  const client = new RealtimeClient<ServerEvents, ClientEvents>('https://rt.example/rt', { share: 'my-app', autoConnect: false });

  it('is the same typed client', () => {
    expectTypeOf(client).toMatchTypeOf<DefaultClient<ServerEvents, ClientEvents>>();
    client.on('chat', (msg) => expectTypeOf(msg).toEqualTypeOf<{ from: string; text: string }>());
    client.emit('say', 'hi');
    // @ts-expect-error say carries a string
    client.emit('say', 1);
    expectTypeOf(new RealtimeError('closed', 'x').code).toEqualTypeOf<RealtimeError['code']>();
  });

  it('takes share as true, false or a channel name, and says its role on the lifecycle', () => {
    new RealtimeClient('https://rt.example/rt', { share: true, autoConnect: false });
    // @ts-expect-error share is a boolean or a string
    new RealtimeClient('https://rt.example/rt', { share: 1, autoConnect: false });
    client.lifecycle.on('share', (e) => expectTypeOf(e.role).toEqualTypeOf<'leader' | 'follower' | 'alone'>());
    expectTypeOf<LifecycleEvents['share']['reason']>().toEqualTypeOf<string>();
  });
});

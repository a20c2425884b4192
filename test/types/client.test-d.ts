import { describe, expectTypeOf, it } from 'vitest';
import { RealtimeClient, RealtimeError, type ClientState, type PersistStore, type TransportName } from '../../src/index';

interface ServerEvents {
  chat: { from: string; text: string };
  presence: { online: number };
}
interface ClientEvents {
  say: string;
  typing: boolean;
}

describe('RealtimeClient public types', () => {
  const client = new RealtimeClient<ServerEvents, ClientEvents>('https://rt.example/rt', { autoConnect: false });

  it('types server event payloads', () => {
    client.on('chat', (msg) => {
      expectTypeOf(msg).toEqualTypeOf<{ from: string; text: string }>();
    });
    client.once('presence', (p) => {
      expectTypeOf(p.online).toEqualTypeOf<number>();
    });
    expectTypeOf(client.on('chat', () => {})).toEqualTypeOf<() => void>();
    // @ts-expect-error 'nope' is not a server event
    client.on('nope', () => {});
    // @ts-expect-error chat carries an object, not a string
    client.on('chat', (msg: string) => msg);
  });

  it('types client event payloads of emit()', () => {
    client.emit('say', 'hi');
    client.emit('typing', true, { ttlMs: 1000 });
    // @ts-expect-error say carries a string
    client.emit('say', 1);
    // @ts-expect-error 'nope' is not a client event
    client.emit('nope', 'x');
    // @ts-expect-error unknown emit option
    client.emit('say', 'hi', { ttl: 1 });
  });

  it('types lifecycle events apart from application events', () => {
    client.lifecycle.on('state', (e) => {
      expectTypeOf(e.state).toEqualTypeOf<ClientState>();
      expectTypeOf(e.previous).toEqualTypeOf<ClientState>();
    });
    client.lifecycle.on('error', (e) => {
      expectTypeOf(e).toEqualTypeOf<RealtimeError>();
    });
    client.lifecycle.on('transport', (e) => {
      expectTypeOf(e.previous).toEqualTypeOf<TransportName | null>();
    });
    // @ts-expect-error 'chat' is an application event, not a lifecycle event
    client.lifecycle.on('chat', () => {});
  });

  it('request() returns a Promise, typed by its type argument', () => {
    expectTypeOf(client.request('history')).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(client.request<string[]>('history', { limit: 10 }, { timeout: 500 })).toEqualTypeOf<Promise<string[]>>();
  });

  it('exposes state, transport and session id read-only', () => {
    expectTypeOf(client.transport).toEqualTypeOf<'websocket' | 'sse' | 'polling' | null>();
    expectTypeOf(client.state).toEqualTypeOf<ClientState>();
    expectTypeOf(client.sessionId).toEqualTypeOf<string | null>();
    // @ts-expect-error transport is a getter without a setter
    client.transport = 'sse';
  });

  it('checks constructor options', () => {
    // @ts-expect-error 'carrier-pigeon' is not a transport
    new RealtimeClient('https://rt.example/rt', { autoConnect: false, transports: ['carrier-pigeon'] });
    // @ts-expect-error the URL is required
    new RealtimeClient();
  });

  it('types persist, resume, forget() and the user of a credential', () => {
    const store: PersistStore = { load: async () => undefined, save: async () => {}, remove: async () => {} };
    new RealtimeClient('https://rt.example/rt', { persist: true, resume: 'skip', auth: () => ({ token: 't', user: 'alice' }) });
    new RealtimeClient('https://rt.example/rt', { persist: store });
    // @ts-expect-error resume is 'replay' or 'skip'
    new RealtimeClient('https://rt.example/rt', { resume: 'later' });
    expectTypeOf(client.forget()).toEqualTypeOf<Promise<void>>();
  });
});

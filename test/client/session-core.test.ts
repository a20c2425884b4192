import { afterEach, describe, expect, it } from 'vitest';
import type { ClientFrame, OutboundFrame, ServerFrame, TransportName, WelcomeFrame } from '../../src/protocol/frames';
import type { Transport, TransportConnectParams, TransportFailure } from '../../src/transports/transport';
import { TypedEmitter } from '../../src/client/emitter';
import type { RealtimeError } from '../../src/client/errors';
import type { LifecycleEvents } from '../../src/client/lifecycle';
import type { ClientMode, ModeSettings } from '../../src/client/mode/mode';
import { resolveOptions } from '../../src/client/options';
import type { SessionPoint } from '../../src/client/session';
import { steppedClock } from './stepped-clock';
import { createSessionCore, type SessionCore, type SessionOwner } from '../../src/client/session-core';


/** One fake transport per attempt: what it was opened with, what it sent, and a way to speak for the server. */
interface FakeLink {
  query: Record<string, string>;
  sent: ClientFrame[];
  closed: boolean;
  server(frame: ServerFrame): void;
  drop(failure: TransportFailure): void;
}

/** A mode whose transports are fake links; the handshake names the session to resume, as protocol mode does. */
function fakeMode(links: FakeLink[]): (settings: ModeSettings) => ClientMode {
  return ({ session }) => ({
    requests: true,
    probes: false,
    refusalMeansUnavailable: false,
    url: () => 'http://x.test/rt',
    handshake: () => {
      const point = session.resumePoint();
      const query: Record<string, string> = point ? { sid: point.sid, last: String(point.last) } : {};
      return { query, hidden: {} };
    },
    prepare: () => null,
    createTransport: (name: TransportName, params: TransportConnectParams): Transport => {
      const link: FakeLink = {
        query: { ...params.query },
        sent: [],
        closed: false,
        server: (frame) => params.handlers.onFrame(frame),
        drop: (failure) => params.handlers.onFailure(failure),
      };
      links.push(link);
      return { name, connect() {}, send: (frames) => void link.sent.push(...frames), close: () => void (link.closed = true) };
    },
    livenessLimitMs: () => 0,
    reopenDelayMs: () => undefined,
  });
}

const welcome = (w: Partial<WelcomeFrame> = {}): WelcomeFrame => ({ t: 'welcome', sid: 's1', secret: 'x', cid: 'c', hb: 0, resumed: false, ack: 0, maxFrame: 1 << 20, ...w });
const msg = (id: number) => ({ t: 'msg' as const, id, e: 'tick', d: id });
const settle = () => new Promise((r) => setTimeout(r, 0));

const cores: SessionCore[] = [];
afterEach(() => cores.splice(0).forEach((core) => core.shutdown({ reason: 'test over' })));

function makeCore(owner: Partial<SessionOwner> = {}, from: SessionPoint | null = null) {
  const clock = steppedClock();
  const links: FakeLink[] = [];
  const life = new TypedEmitter<LifecycleEvents>();
  const events: string[] = [];
  for (const e of ['state', 'transport', 'open', 'close', 'error'] as const) life.on(e, (p) => events.push(`${e} ${JSON.stringify(p)}`));
  const told: string[] = [];
  const options = resolveOptions({ clock, transports: ['websocket'], autoConnect: false, storage: null, raceAfterMs: 0, upgradeProbeMs: 0, random: () => 0 });
  const core = createSessionCore(
    { endpoint: 'http://x.test/rt', options, life, mode: fakeMode(links), from },
    {
      welcomed: (w, lost) => told.push(`welcomed ${w.sid} lost=${lost?.previousSessionId ?? 'none'}`),
      delivered: (f) => told.push(`delivered ${f.id}`),
      outgoing: () => [],
      stopped: (error) => core.shutdown({ reason: error.message, error }),
      ...owner,
    },
  );
  cores.push(core);
  return { core, clock, links, events, told };
}

describe('SessionCore: one session connection life, for any owner', () => {
  it('opens, says so, and hands the owner each server frame once and in order', async () => {
    const { core, links, events, told } = makeCore();
    core.start();
    await settle();
    expect(links).toHaveLength(1);
    links[0]!.server(welcome());
    expect(core.state).toBe('open');
    expect(core.transport).toBe('websocket');
    expect(events).toEqual([
      'state {"state":"connecting","previous":"idle"}',
      'transport {"transport":"websocket","previous":null,"reason":"connect"}',
      'state {"state":"open","previous":"connecting"}',
      'open {"transport":"websocket","sessionId":"s1","resumed":false}',
    ]);
    for (const id of [1, 2, 2, 1, 3]) links[0]!.server(msg(id));
    expect(told).toEqual(['welcomed s1 lost=none', 'delivered 1', 'delivered 2', 'delivered 3']);
  });

  it('a frame after a gap fails the connection, and the next attempt resumes after the last one handed over', async () => {
    const { core, clock, links, told } = makeCore();
    core.start();
    await settle();
    links[0]!.server(welcome());
    links[0]!.server(msg(1));
    links[0]!.server(msg(3));
    expect(links[0]!.closed).toBe(true);
    expect(core.state).toBe('reconnecting');
    clock.runAll(); // the reopen's backoff
    await settle();
    expect(links[1]!.query).toEqual({ sid: 's1', last: '1' });
    expect(told).toEqual(['welcomed s1 lost=none', 'delivered 1']);
  });

  it('sends what the owner gives, everything after a (re)open; the server acknowledgements go to the outbox, shifted by the owner numbering', async () => {
    const calls: boolean[] = [];
    const acked: number[] = [];
    let core!: SessionCore;
    const made = makeCore({
      seqBase: 10,
      outgoing: (all) => {
        calls.push(all);
        return core.outbox.take(0, all).frames.map((e) => ({ ...e.frame, seq: e.frame.seq + 10 }));
      },
      acked: (n) => acked.push(n),
    });
    core = made.core;
    core.outbox.add('emit', 'a', 1);
    core.outbox.add('emit', 'b', 2);
    core.start();
    await settle();
    made.links[0]!.server(welcome({ ack: 10 }));
    expect(calls).toEqual([true]);
    expect(made.links[0]!.sent.map((f) => (f as OutboundFrame).seq)).toEqual([11, 12]);
    made.links[0]!.server({ t: 'ack', n: 11 });
    expect(acked).toEqual([10, 11]);
    expect(core.outbox.size).toBe(1);
    core.flush(false);
    expect(calls).toEqual([true, false]);
  });

  it('acknowledges what it handed over on the open connection (every 32 frames)', async () => {
    const { core, links } = makeCore();
    core.start();
    await settle();
    links[0]!.server(welcome());
    for (let id = 1; id <= 32; id++) links[0]!.server(msg(id));
    expect(links[0]!.sent).toEqual([{ t: 'ack', id: 32 }]);
  });

  it('resumes the session another tab left, from where it left it', async () => {
    const { core, links, told } = makeCore({}, { sid: 's0', secret: 'y', last: 40 });
    expect(core.session.id).toBe('s0');
    core.start();
    await settle();
    expect(links[0]!.query).toEqual({ sid: 's0', last: '40' });
    links[0]!.server(welcome({ sid: 's0', resumed: true }));
    links[0]!.server(msg(41));
    expect(told).toEqual(['welcomed s0 lost=none', 'delivered 41']);
  });

  it('tells the owner of a drop only for a connection that had opened', async () => {
    const dropped: string[] = [];
    const { core, clock, links } = makeCore({ dropped: (f) => dropped.push(f.message) });
    core.start();
    await settle();
    links[0]!.drop({ kind: 'network', message: 'refused' });
    clock.runAll();
    await settle();
    links[1]!.server(welcome());
    links[1]!.drop({ kind: 'network', message: 'reset' });
    expect(dropped).toEqual(['reset']);
  });

  it('shutdown releases every timer and the connection, lets the owner settle first, and says why', async () => {
    const order: string[] = [];
    const { core, clock, links, events } = makeCore({ closing: (d) => order.push(`closing ${d.reason}`) });
    core.start();
    await settle();
    links[0]!.server(welcome());
    links[0]!.server(msg(1)); // arms the ack timer
    expect(clock.armed()).toBeGreaterThan(0);
    core.shutdown({ reason: 'bye' });
    core.shutdown({ reason: 'twice' }); // once only
    expect(clock.armed()).toBe(0);
    expect(core.pendingTimers).toBe(0);
    expect(links[0]!.closed).toBe(true);
    expect(core.state).toBe('closed');
    expect(core.transport).toBeNull();
    expect(order).toEqual(['closing bye']);
    expect(events.slice(-2)).toEqual(['state {"state":"closed","previous":"open"}', 'close {"reason":"bye"}']);
  });

  it('when retrying cannot help, the owner decides how it ends (here: closed with the error)', async () => {
    const stopped: RealtimeError[] = [];
    let core!: SessionCore;
    const made = makeCore({ stopped: (e) => (stopped.push(e), core.shutdown({ reason: e.message, error: e })) });
    core = made.core;
    core.start();
    await settle();
    made.links[0]!.server({ t: 'error', code: 'forbidden', message: 'no', status: 404 });
    expect(stopped.map((e) => e.code)).toEqual(['rejected']);
    expect(core.state).toBe('closed');
    expect(made.events.at(-2)).toMatch(/^error /);
  });
});

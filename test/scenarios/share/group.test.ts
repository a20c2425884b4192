/**
 * Sharing tabs in Node: several `RealtimeClient`s with `share` in one group (the in-memory BroadcastChannel and Web
 * Locks of local-platform.ts stand in for the browser's), against the real reference server in-process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { RealtimeClient } from '../../../src/client/realtime-client';
import { localPlatform } from '../../../src/client/share/local-platform';
import type { TabMessage } from '../../../src/client/share/messages';
import { shareModeOn } from '../../../src/client/share/share-mode';
import type { SharePlatform } from '../../../src/client/share/tab-share';
import { normaliseUrl } from '../../../src/client/url';
import type { WebSocketConstructor } from '../../../src/transports/environment';
import { cleanup, startHarness, waitUntil, type Harness } from '../integration/harness';

type Client = RealtimeClient<{ tick: number }, { say: { tab: number; n: number } }>;
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cleanup();
});

/** A group: `count` clients sharing through one in-memory platform; `said` records what the server ran per tab. */
async function group(count: number): Promise<{ h: Harness; platform: SharePlatform; tabs: Client[]; said: Map<number, number[]>; spy: TabMessage[] }> {
  const h = await startHarness();
  const said = new Map<number, number[]>();
  h.rt.on('connection', (s) => {
    s.on('say', (d) => {
      const { tab, n } = d as { tab: number; n: number };
      said.set(tab, [...(said.get(tab) ?? []), n]);
    });
    s.on('echo', (d, reply) => reply(d));
  });
  const platform = localPlatform();
  platforms.set(h, platform);
  // Hears everything said in the group, as any tab does.
  const spy: TabMessage[] = [];
  platform.channel(`realtime-fallback share ${normaliseUrl(h.base)}`).onmessage = (e) => void spy.push(e.data as TabMessage);
  const tabs: Client[] = [];
  for (let i = 0; i < count; i++) {
    const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor }, shareModeOn(() => platform));
    clients.push(c);
    tabs.push(c);
    await waitUntil(() => c.state === 'open', 5000, `tab ${i} open`);
  }
  return { h, platform, tabs, said, spy };
}

/** A channel into the group of `h`'s URL, as another tab's. */
function localChannelOf(h: Harness): { post(m: TabMessage): void; close(): void } {
  const channel = platforms.get(h)!.channel(`realtime-fallback share ${normaliseUrl(h.base)}`);
  return { post: (m) => channel.postMessage(m), close: () => channel.close() };
}
const platforms = new Map<Harness, SharePlatform>();

/** A WebSocket class whose sockets hear no message once `deafen()` is called (they still send). */
function deafWebSocket(): { DeafWebSocket: typeof NodeWebSocket; deafen(): void } {
  let deaf = false;
  class DeafWebSocket extends NodeWebSocket {}
  const listen = NodeWebSocket.prototype.addEventListener;
  Object.defineProperty(DeafWebSocket.prototype, 'addEventListener', {
    value(this: NodeWebSocket, type: 'message', listener: (event: unknown) => void) {
      listen.call(this, type, ((event: unknown) => !(deaf && type === 'message') && listener(event)) as never);
    },
  });
  return { DeafWebSocket, deafen: () => void (deaf = true) };
}

/** `inner`, whose channels hold back the leader's word of numbered frames (`sent`) from `hold()` until `release()`. */
function holdingSent(inner: SharePlatform): { platform: SharePlatform; hold(): void; release(): void } {
  const heldBack: (() => void)[] = [];
  let holding = false;
  const platform: SharePlatform = {
    ...inner,
    channel(name) {
      const channel = inner.channel(name);
      return {
        get onmessage() {
          return channel.onmessage;
        },
        set onmessage(fn) {
          channel.onmessage =
            fn &&
            ((e) => {
              if (holding && (e.data as TabMessage).k === 'sent') heldBack.push(() => fn(e));
              else fn(e);
            });
        },
        postMessage: (m) => channel.postMessage(m),
        close: () => channel.close(),
      };
    },
  };
  return {
    platform,
    hold: () => void (holding = true),
    release() {
      holding = false;
      heldBack.splice(0).forEach((deliver) => deliver());
    },
  };
}

const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('tabs sharing one connection (in-memory channel and locks, real server)', () => {
  it('one session for the group; every tab gets every message in order; each tab emits once, in order', async () => {
    const { h, tabs, said } = await group(3);
    const got = tabs.map((t) => {
      const seen: number[] = [];
      t.on('tick', (n) => seen.push(n));
      return seen;
    });
    expect(h.sessions).toHaveLength(1);
    for (let n = 1; n <= 100; n++) h.rt.emit('tick', n);
    tabs.forEach((t, tab) => {
      for (let n = 1; n <= 20; n++) t.emit('say', { tab, n });
    });
    await waitUntil(() => got.every((g) => g.length === 100) && tabs.every((t) => t.queued.messages === 0), 5000, 'ticks and acks');
    for (const g of got) expect(g).toEqual(oneTo(100));
    expect([...said.entries()].sort()).toEqual([[0, oneTo(20)], [1, oneTo(20)], [2, oneTo(20)]]);
    expect(new Set(tabs.map((t) => t.sessionId))).toEqual(new Set([h.sessions[0]!.id]));
  });

  it('a tab sending its frames again (as to a new leader) is not run twice: the leader knows each tab id and number', async () => {
    const { platform, tabs, said, spy, h } = await group(2);
    for (let n = 1; n <= 5; n++) tabs[1]!.emit('say', { tab: 1, n });
    await waitUntil(() => tabs[1]!.queued.messages === 0, 5000, 'acknowledged');
    const ups = spy.filter((m): m is Extract<TabMessage, { k: 'up' }> => m.k === 'up');
    expect(ups.flatMap((m) => m.frames.map((f) => f.seq))).toEqual([1, 2, 3, 4, 5]);
    // The same frames again, all of them, and then a later one: only the later one is new.
    const resend = platform.channel(`realtime-fallback share ${normaliseUrl(h.base)}`);
    resend.postMessage({ k: 'up', tab: ups[0]!.tab, frames: ups.flatMap((m) => m.frames) } satisfies TabMessage);
    tabs[1]!.emit('say', { tab: 1, n: 6 });
    await waitUntil(() => tabs[1]!.queued.messages === 0 && (said.get(1)?.length ?? 0) >= 6, 5000, 'the sixth');
    await new Promise((r) => setTimeout(r, 50));
    expect(said.get(1)).toEqual(oneTo(6));
    resend.close();
  });

  it("a tab's frames are taken in its own order: one that overtakes frames no leader heard waits for the tab's resend", async () => {
    const { h, said } = await group(1);
    const channel = localChannelOf(h);
    const say = (seq: number) => ({ t: 'emit' as const, seq, e: 'say', d: { tab: 9, n: seq } });
    // Between leaders, frame 1 went unheard; frame 2 reaches the new leader first, then the tab resends 1 and 2.
    channel.post({ k: 'up', tab: 'late-tab', frames: [say(2)] });
    channel.post({ k: 'up', tab: 'late-tab', frames: [say(1), say(2)] });
    await waitUntil(() => (said.get(9)?.length ?? 0) >= 2, 5000, 'both frames');
    await new Promise((r) => setTimeout(r, 50));
    expect(said.get(9)).toEqual([1, 2]);
    channel.close();
  });

  it('frames the leader sent that never reached the server are sent again by the next leader, with their numbers, once', async () => {
    const h = await startHarness();
    const said: number[] = [];
    h.rt.on('connection', (s) => s.on('say', (d) => void said.push((d as { n: number }).n)));
    const platform = localPlatform();
    // The first tab's WebSocket loses what it sends once `lossy` is set: as if the tab crashed with frames in the air.
    let lossy = false;
    class LossyWebSocket extends NodeWebSocket {
      override send(data: unknown): void {
        if (!lossy) super.send(data as string); // the transport sends strings, without options
      }
    }
    const make = (ws: typeof NodeWebSocket): Client => {
      const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: ws as unknown as WebSocketConstructor }, shareModeOn(() => platform));
      clients.push(c);
      return c;
    };
    const leader = make(LossyWebSocket);
    await waitUntil(() => leader.state === 'open', 5000, 'leader open');
    const follower = make(NodeWebSocket);
    await waitUntil(() => follower.state === 'open', 5000, 'follower open');
    follower.emit('say', { tab: 1, n: 1 });
    await waitUntil(() => follower.queued.messages === 0, 5000, 'first acknowledged');
    lossy = true;
    for (let n = 2; n <= 5; n++) follower.emit('say', { tab: 1, n });
    await new Promise((r) => setTimeout(r, 100)); // numbered, told to the tabs, "sent": the server has none of them
    expect(said).toEqual([1]);
    leader.close();
    await waitUntil(() => follower.queued.messages === 0, 5000, () => `resent and acknowledged (server ran ${said.join(',')})`);
    await new Promise((r) => setTimeout(r, 50));
    expect(said).toEqual([1, 2, 3, 4, 5]);
    expect(h.sessions).toHaveLength(1);
  });

  it('frames the server ran whose acknowledgement the leader never got are not run again by the next leader', async () => {
    const h = await startHarness();
    const said: number[] = [];
    h.rt.on('connection', (s) => s.on('say', (d) => void said.push((d as { n: number }).n)));
    const platform = localPlatform();
    // The first tab's WebSocket hears nothing once deafened: the server runs its frames, the acks never arrive.
    const { DeafWebSocket, deafen } = deafWebSocket();
    const make = (ws: typeof NodeWebSocket): Client => {
      const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: ws as unknown as WebSocketConstructor }, shareModeOn(() => platform));
      clients.push(c);
      return c;
    };
    const leader = make(DeafWebSocket);
    await waitUntil(() => leader.state === 'open', 5000, 'leader open');
    const follower = make(NodeWebSocket);
    await waitUntil(() => follower.state === 'open', 5000, 'follower open');
    deafen();
    for (let n = 1; n <= 5; n++) follower.emit('say', { tab: 1, n });
    await waitUntil(() => said.length === 5, 5000, 'the server ran them');
    expect(follower.queued.messages).toBe(5); // no acknowledgement reached the leader
    leader.close();
    await waitUntil(() => follower.queued.messages === 0, 5000, 'acknowledged by the next leader');
    await new Promise((r) => setTimeout(r, 50));
    expect(said).toEqual([1, 2, 3, 4, 5]);
  });

  it('the next leader gets the lock before the word of what the last one sent: it waits for the word, and nothing is lost or run twice', async () => {
    const h = await startHarness();
    const said: string[] = [];
    h.rt.on('connection', (s) => s.on('say', (d) => void said.push(`${(d as { tab: number }).tab}:${(d as { n: number }).n}`)));
    const inner = localPlatform();
    // The second tab's channel holds back the leader's word of numbered frames until let go: a crash that beats the
    // word to the next leader.
    const lag = holdingSent(inner);
    const lagging = lag.platform;
    // The first tab's WebSocket hears nothing once deafened: the server runs its frames, the acks never arrive.
    const { DeafWebSocket, deafen } = deafWebSocket();
    const make = (ws: typeof NodeWebSocket, platform: SharePlatform): Client => {
      const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: ws as unknown as WebSocketConstructor }, shareModeOn(() => platform));
      clients.push(c);
      return c;
    };
    const leader = make(DeafWebSocket, inner);
    await waitUntil(() => leader.state === 'open', 5000, 'leader open');
    const next = make(NodeWebSocket, lagging);
    await waitUntil(() => next.state === 'open', 5000, 'second tab open');
    deafen();
    lag.hold();
    for (let n = 1; n <= 2; n++) leader.emit('say', { tab: 0, n });
    for (let n = 1; n <= 5; n++) next.emit('say', { tab: 1, n });
    await waitUntil(() => said.length === 7, 5000, 'the server ran all 7 (numbers 1-7)');
    leader.close(); // the second tab leads, knowing none of numbers 1-7
    setTimeout(() => lag.release(), 200);
    for (let n = 6; n <= 8; n++) next.emit('say', { tab: 1, n }); // numbered after the hand-over
    await waitUntil(() => next.queued.messages === 0, 5000, 'every emit of the second tab acknowledged');
    await new Promise((r) => setTimeout(r, 50));
    // Numbering on from 0 would have given 6-8 numbers the server had run already (dropped, never run) and sent 1-5
    // again with numbers past 7.
    expect(said).toEqual(['0:1', '0:2', '1:1', '1:2', '1:3', '1:4', '1:5', '1:6', '1:7', '1:8']);
  });

  it("the leader sends a frame only once its own tab heard the word of its number (so every tab will, should it die)", async () => {
    const h = await startHarness();
    const said: number[] = [];
    h.rt.on('connection', (s) => s.on('say', (d) => void said.push((d as { n: number }).n)));
    const lag = holdingSent(localPlatform());
    const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor }, shareModeOn(() => lag.platform));
    clients.push(c);
    await waitUntil(() => c.state === 'open', 5000, 'open');
    lag.hold();
    for (let n = 1; n <= 3; n++) c.emit('say', { tab: 0, n });
    await new Promise((r) => setTimeout(r, 100));
    expect(said).toEqual([]); // numbered, told, not sent: the word has not come back
    lag.release();
    await waitUntil(() => said.length === 3 && c.queued.messages === 0, 5000, 'sent once the word came back');
    expect(said).toEqual([1, 2, 3]);
  });

  it("the leader's connection drops: every tab goes reconnecting, then open on the same session, and misses nothing", async () => {
    const { h, tabs } = await group(3);
    const got = tabs.map((t) => {
      const seen: number[] = [];
      t.on('tick', (n) => seen.push(n));
      return seen;
    });
    const states = tabs.map((t) => {
      const seen: string[] = [];
      t.lifecycle.on('state', (e) => seen.push(e.state));
      return seen;
    });
    for (let n = 1; n <= 5; n++) h.rt.emit('tick', n);
    await waitUntil(() => got.every((g) => g.length === 5), 5000, '5 ticks');
    h.killConnections();
    for (let n = 6; n <= 10; n++) h.rt.emit('tick', n); // while nobody is connected: kept by the session
    await waitUntil(() => got.every((g) => g.length === 10), 10_000, () => `10 ticks: ${got.map((g) => g.length)}`);
    for (const g of got) expect(g).toEqual(oneTo(10));
    for (const s of states) expect(s).toEqual(['reconnecting', 'open']);
    expect(h.sessions).toHaveLength(1);
  });

  it("only the leader's connection calls auth", async () => {
    const h = await startHarness({ authenticate: (req) => req.headers.authorization === 'Bearer t' });
    const platform = localPlatform();
    const calls = [0, 0, 0];
    const tabs = calls.map((_, i) => {
      const c: Client = new RealtimeClient(
        h.base,
        { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor, auth: () => (calls[i]!++, { token: 't' }) },
        shareModeOn(() => platform),
      );
      clients.push(c);
      return c;
    });
    await waitUntil(() => tabs.every((t) => t.state === 'open'), 5000, 'all open');
    expect(calls).toEqual([1, 0, 0]);
  });

  it("the leader's session moves to a better transport: every tab shows it, and misses nothing", async () => {
    const h = await startHarness();
    h.gates.websocket = true; // refused at first: the leader falls back to SSE
    const platform = localPlatform();
    const tabs = [0, 1].map(() => {
      const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor, upgradeProbeMs: 100 }, shareModeOn(() => platform));
      clients.push(c);
      return c;
    });
    await waitUntil(() => tabs.every((t) => t.state === 'open' && t.transport === 'sse'), 5000, () => `on sse: ${tabs.map((t) => t.transport)}`);
    const got = tabs.map((t) => {
      const seen: number[] = [];
      t.on('tick', (n) => seen.push(n));
      return seen;
    });
    const moves: string[] = [];
    tabs[1]!.lifecycle.on('transport', (e) => moves.push(`${e.previous} → ${e.transport}`));
    for (let n = 1; n <= 5; n++) h.rt.emit('tick', n);
    h.gates.websocket = false; // the leader's probe gets through now
    await waitUntil(() => tabs.every((t) => t.transport === 'websocket' && t.state === 'open'), 5000, () => `on websocket: ${tabs.map((t) => `${t.transport} ${t.state}`)}`);
    for (let n = 6; n <= 10; n++) h.rt.emit('tick', n);
    await waitUntil(() => got.every((g) => g.length === 10), 5000, 'ticks');
    for (const g of got) expect(g).toEqual(oneTo(10));
    expect(moves).toEqual(['sse → websocket']);
    expect(h.sessions).toHaveLength(1);
  });

  it('a reply reaches only the tab that asked, even for the same event at the same time', async () => {
    const { tabs } = await group(3);
    const replies = await Promise.all(tabs.map((t, i) => t.request('echo', { from: i })));
    expect(replies).toEqual([{ from: 0 }, { from: 1 }, { from: 2 }]);
  });

  it('the leader leaves: the next tab resumes the same session; emits made while no tab led arrive once; no tab misses a message', async () => {
    const { h, tabs, said } = await group(3);
    const got = tabs.map((t) => {
      const seen: number[] = [];
      t.on('tick', (n) => seen.push(n));
      return seen;
    });
    for (let n = 1; n <= 10; n++) h.rt.emit('tick', n);
    await waitUntil(() => got.every((g) => g.length === 10), 5000, '10 ticks');
    const roles: string[] = [];
    tabs[1]!.lifecycle.on('share', (e) => roles.push(`1 ${e.role}`));
    tabs[2]!.lifecycle.on('share', (e) => roles.push(`2 ${e.role}`));
    tabs[0]!.close(); // the leader: its lock goes to the next tab in line
    // Emitted at once, before any tab could take the lock: no leader hears these.
    for (let n = 1; n <= 5; n++) tabs[1]!.emit('say', { tab: 1, n });
    for (let n = 11; n <= 20; n++) h.rt.emit('tick', n); // while no tab holds the connection: kept by the session
    await waitUntil(() => tabs[1]!.queued.messages === 0 && got[1]!.length === 20 && got[2]!.length === 20, 5000, 'after the hand-over');
    expect(roles).toEqual(['1 leader']);
    expect(h.sessions).toHaveLength(1);
    expect(said.get(1)).toEqual(oneTo(5));
    expect(got[1]).toEqual(oneTo(20));
    expect(got[2]).toEqual(oneTo(20));
    expect(tabs.map((t) => t.state)).toEqual(['closed', 'open', 'open']);
  });

  it('every resume gives a fresh secret: every tab keeps it, so the next leader resumes after two resumes without a resync', async () => {
    const { h, tabs, spy } = await group(2);
    const got: number[] = [];
    tabs[1]!.on('tick', (n) => got.push(n));
    const resyncs: unknown[] = [];
    tabs[1]!.lifecycle.on('resync', (e) => resyncs.push(e));
    let opens = 0;
    tabs[0]!.lifecycle.on('state', (e) => void (e.state === 'open' && opens++));
    // Two resumes: the second presents the first one's secret, so the one before it is good no more.
    for (const round of [1, 2]) {
      h.killConnections();
      await waitUntil(() => opens === round, 10_000, `open again (${round})`);
    }
    const secrets = spy.flatMap((m) => (m.k === 'session' ? [m.secret] : []));
    expect(new Set(secrets).size).toBe(3);
    tabs[0]!.close(); // the next tab leads, with the secret it was told last
    h.rt.emit('tick', 1);
    await waitUntil(() => got.length === 1 && tabs[1]!.state === 'open', 10_000, 'the tick, on the next leader');
    expect(resyncs).toEqual([]);
    expect(h.sessions).toHaveLength(1);
  });

  it('a refusal retrying cannot fix reaches every tab: each client stops with the error a lone client would get', async () => {
    const h = await startHarness({ authenticate: () => false });
    const platform = localPlatform();
    const tabs: Client[] = [0, 1].map(() => {
      const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor }, shareModeOn(() => platform));
      clients.push(c);
      return c;
    });
    const closes = tabs.map((t) => new Promise<string | undefined>((resolve) => t.lifecycle.on('close', (e) => resolve(e.error?.code))));
    const failed: string[] = [];
    tabs[0]!.lifecycle.on('transportFailed', (e) => failed.push(e.failure.message)); // the first tab leads: told there
    expect(await Promise.all(closes)).toEqual(['unauthorized', 'unauthorized']);
    expect(failed.length).toBeGreaterThan(0);
    expect(h.sessions).toHaveLength(0);
  });

  it('a hidden leader hands over to a visible tab; a leader hidden with no visible tab hands over when one shows', async () => {
    const h = await startHarness();
    const base = localPlatform();
    const visible = [true, true, true];
    const listeners: (() => void)[] = [];
    const tabs: Client[] = [];
    for (let i = 0; i < 3; i++) {
      const platform: SharePlatform = { ...base, visible: () => visible[i]!, onVisibility: (l) => ((listeners[i] = l), () => {}) };
      const c: Client = new RealtimeClient(h.base, { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor }, shareModeOn(() => platform));
      clients.push(c);
      tabs.push(c);
      await waitUntil(() => c.state === 'open', 5000, `tab ${i} open`);
    }
    const roles: string[] = [];
    tabs.forEach((t, i) => t.lifecycle.on('share', (e) => roles.push(`${i} ${e.role}`)));
    const setVisible = (i: number, v: boolean): void => {
      visible[i] = v;
      listeners[i]!();
    };
    setVisible(1, false); // a follower hides: nothing changes
    setVisible(0, false); // the leader hides: tab 2, the visible one, takes over
    await waitUntil(() => roles.length === 2, 5000, () => `hand-over: ${roles.join(', ')}`);
    expect([...roles].sort()).toEqual(['0 follower', '2 leader']); // in either order: separate tasks
    setVisible(2, false); // every tab hidden: the leader keeps the connection
    await new Promise((r) => setTimeout(r, 50));
    expect(roles).toHaveLength(2);
    setVisible(1, true); // a tab shows: the hidden leader hands over to it
    await waitUntil(() => roles.length === 4, 5000, () => `second hand-over: ${roles.join(', ')}`);
    expect(roles.slice(2).sort()).toEqual(['1 leader', '2 follower']);
    expect(h.sessions).toHaveLength(1);
    for (let n = 1; n <= 5; n++) h.rt.emit('tick', n);
    const got: number[] = [];
    tabs[0]!.on('tick', (n) => got.push(n));
    await waitUntil(() => got.length === 5, 5000, 'ticks after the hand-overs');
  });

  it('a tab closed at once, before its locks were granted, leaves none held', async () => {
    const h = await startHarness();
    const platform = localPlatform();
    const c = new RealtimeClient(h.base, { share: true, WebSocket: NodeWebSocket as unknown as WebSocketConstructor }, shareModeOn(() => platform));
    c.connect();
    while (platform.openChannels() === 0) await Promise.resolve(); // joined: its lock requests are not granted yet
    c.close();
    await new Promise((r) => setTimeout(r, 20));
    expect({ held: platform.locks.held(), waiting: platform.locks.waiting(), channels: platform.openChannels() }).toEqual({ held: 0, waiting: 0, channels: 0 });
  });

  it('closing every tab releases the lock, the channels and every timer', async () => {
    const { tabs, platform, h } = await group(3);
    for (const t of tabs) t.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(tabs.map((t) => t.pendingTimers)).toEqual([0, 0, 0]);
    const local = platform as ReturnType<typeof localPlatform>;
    expect({ held: local.locks.held(), waiting: local.locks.waiting(), channels: local.openChannels() }).toEqual({ held: 0, waiting: 0, channels: 1 }); // the test's own
    await waitUntil(() => h.inFlight().upgraded === 0, 2000, 'the leader socket closed');
  });
});

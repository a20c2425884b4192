/**
 * How fuzz inputs reach the server: raw TCP (node:net) for what no HTTP client would send, node:http for requests
 * an attacker's script would, and `ws` for WebSockets. Every socket is bound to a fuzz source address (so the server
 * tells fuzz traffic from the good clients on 127.0.0.1 by address, as it would a stranger's) and destroyed by a
 * deadline whatever the server does.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { WebSocket } from 'ws';

export interface Target {
  port: number;
  /** The realtime endpoint's path. */
  path: string;
}

/** What came back: an HTTP status, or what happened instead. */
export type Outcome = number | 'no-answer' | 'closed' | 'reset' | 'ws-open' | 'ws-refused' | 'unsendable';

export type Chunk = string | Buffer | { pauseMs: number };

/** The status of the first response line in `head`, if one arrived. */
const statusOf = (head: string): number | null => {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  return m ? Number(m[1]) : null;
};

/**
 * Writes `chunks` (pausing where asked) on a raw TCP connection and reads what comes back for at most `readMs` after
 * the last write. Resolves with the first status line seen.
 */
export function rawExchange(t: Target, localAddress: string, chunks: readonly Chunk[], readMs = 1000): Promise<{ outcome: Outcome; head: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: t.port, localAddress });
    let head = '';
    let outcome: Outcome = 'no-answer';
    let done = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = () => {
      if (done) return;
      done = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, head });
    };
    socket.on('data', (b: Buffer) => {
      if (head.length < 512) head += b.toString('latin1').slice(0, 512);
      const status = statusOf(head);
      if (status !== null) outcome = status;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (typeof outcome !== 'number') outcome = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'closed';
      finish();
    });
    socket.on('close', () => {
      if (outcome === 'no-answer') outcome = 'closed';
      finish();
    });
    socket.on('connect', () => {
      let at = 0;
      for (const c of chunks) {
        if (typeof c === 'object' && !Buffer.isBuffer(c)) at += c.pauseMs;
        else timers.push(setTimeout(() => !done && socket.write(c), at));
      }
      timers.push(setTimeout(finish, at + readMs));
    });
    // A connect that never completes is bounded too.
    timers.push(setTimeout(finish, 10_000));
  });
}

export interface HttpAnswer {
  outcome: Outcome;
  body: string;
  headers: IncomingHttpHeaders;
}

/** One HTTP request from `localAddress`; the body is read for at most `readMs` (a held poll or an event stream is cut). */
export function http(
  t: Target,
  localAddress: string,
  o: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; readMs?: number },
): Promise<HttpAnswer> {
  return new Promise((resolve) => {
    let body = '';
    let outcome: Outcome = 'no-answer';
    let headers: IncomingHttpHeaders = {};
    let done = false;
    let req: ReturnType<typeof httpRequest>;
    try {
      req = httpRequest({ host: '127.0.0.1', port: t.port, localAddress, method: o.method ?? 'GET', path: o.path, headers: o.headers, agent: false });
    } catch {
      // node:http refuses to send it (a character a header cannot hold): the raw families send such things.
      return resolve({ outcome: 'unsendable', body, headers });
    }
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ outcome, body, headers });
    };
    const timer = setTimeout(finish, o.readMs ?? 1500);
    req.on('response', (res) => {
      outcome = res.statusCode ?? 'no-answer';
      headers = res.headers;
      res.on('data', (b: Buffer) => {
        if (body.length < 1 << 20) body += b.toString();
      });
      res.on('end', finish);
      res.on('error', finish);
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (typeof outcome !== 'number') outcome = err.code === 'ECONNRESET' ? 'reset' : 'closed';
      finish();
    });
    req.end(o.body);
  });
}

export interface Welcome {
  sid: string;
  secret: string;
  cid: string;
}

/** The frames of a JSON array body, or [] when it is not one. */
export function framesOf(body: string): { t?: unknown; sid?: unknown; secret?: unknown; cid?: unknown }[] {
  try {
    const v: unknown = JSON.parse(body);
    return Array.isArray(v) ? (v as []) : [v as object];
  } catch {
    return [];
  }
}

/** A polling handshake: a live session to attack, or null when the server refused one. */
export async function pollHandshake(t: Target, localAddress: string, headers: Record<string, string> = {}): Promise<Welcome | null> {
  const a = await http(t, localAddress, { path: `${t.path}/poll?v=1`, headers });
  const w = framesOf(a.body).find((f) => f.t === 'welcome');
  return w && typeof w.sid === 'string' ? { sid: w.sid, secret: String(w.secret), cid: String(w.cid) } : null;
}

/** A POST of frames (or any body) to `E/send` for a session. */
export function post(t: Target, localAddress: string, w: Welcome | null, body: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const q = w ? `v=1&sid=${encodeURIComponent(w.sid)}&cid=${encodeURIComponent(w.cid)}` : 'v=1';
  const h: Record<string, string> = { 'Content-Type': 'text/plain', ...(w ? { 'X-Realtime-Secret': w.secret } : {}), ...headers };
  return http(t, localAddress, { method: 'POST', path: `${t.path}/send?${q}`, headers: h, body });
}

export interface OpenSocket {
  ws: WebSocket;
  /** Text of every message received so far (bounded). */
  received: string[];
  welcome: Welcome | null;
}

/** Opens a WebSocket from `localAddress` and waits for its first message (the welcome) for at most `ms`. */
export function openWs(t: Target, localAddress: string, query: string, protocols: string[] = [], ms = 1500): Promise<{ outcome: Outcome; socket: OpenSocket }> {
  return new Promise((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(`ws://127.0.0.1:${t.port}${t.path}/ws?${query}`, protocols, { localAddress, handshakeTimeout: ms, maxPayload: 16 << 20 });
    } catch {
      // `ws` refuses to send it (a subprotocol it finds invalid): a socket that never opens stands in.
      const closed = { readyState: 3, OPEN: 1, terminate() {}, send() {} } as unknown as WebSocket;
      return resolve({ outcome: 'unsendable', socket: { ws: closed, received: [], welcome: null } });
    }
    const socket: OpenSocket = { ws, received: [], welcome: null };
    let done = false;
    const finish = (outcome: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ outcome, socket });
    };
    const timer = setTimeout(() => finish(ws.readyState === ws.OPEN ? 'ws-open' : 'no-answer'), ms);
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (socket.received.length < 200) socket.received.push(text.slice(0, 2000));
      const w = framesOf(text).find((f) => f.t === 'welcome');
      if (w && typeof w.sid === 'string') socket.welcome = { sid: w.sid, secret: String(w.secret), cid: String(w.cid) };
      finish('ws-open');
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      finish(res.statusCode ?? 'ws-refused');
      ws.terminate();
    });
    ws.on('error', () => finish('ws-refused'));
    ws.on('close', () => finish('closed'));
  });
}

/** Sends on an open socket, ignoring a socket that closed meanwhile (the server may cut it: that is its right). */
export function wsSend(s: OpenSocket, data: string | Buffer, binary = false): void {
  if (s.ws.readyState === s.ws.OPEN) s.ws.send(data, { binary });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

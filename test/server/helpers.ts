import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import type { ClientFrame, ServerFrame, WelcomeFrame } from '../../src/protocol/frames';
import { decodeServerBatch, decodeServerFrame, encodeBatch, encodeFrame } from '../../src/protocol/codec';
import { createRealtimeServer, type CreateServerOptions, type Logger, type RealtimeServer } from '../../src/server';

/** A logger that records instead of printing, so tests stay quiet and can assert on errors. */
export function recordingLogger(): Logger & { errors: unknown[][]; warnings: unknown[][] } {
  const errors: unknown[][] = [];
  const warnings: unknown[][] = [];
  return {
    errors,
    warnings,
    debug: () => {},
    warn: (...args: unknown[]) => void warnings.push(args),
    error: (...args: unknown[]) => void errors.push(args),
  };
}

export interface TestServer {
  rt: RealtimeServer;
  http: Server;
  port: number;
  /** http://127.0.0.1:port/realtime */
  base: string;
  logger: ReturnType<typeof recordingLogger>;
  close(): Promise<void>;
}

const servers = new Set<TestServer>();

/** A real server on 127.0.0.1, port 0. `app` is an optional request listener the app installed first. */
export async function startServer(
  options: CreateServerOptions = {},
  app?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<TestServer> {
  const http = createServer(app);
  const logger = recordingLogger();
  const rt = createRealtimeServer({ heartbeatMs: 1000, sessionGraceMs: 2000, logger, ...options, server: http });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;
  const ts: TestServer = {
    rt,
    http,
    port,
    base: `http://127.0.0.1:${port}${options.path ?? '/realtime'}`,
    logger,
    async close() {
      servers.delete(ts);
      await rt.close();
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
  servers.add(ts);
  return ts;
}

/** Closes every server a test left open (use in afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all([...servers].map((s) => s.close()));
}

export function qs(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.set(k, String(v));
  return u.toString();
}

/** Frames in arrival order, awaitable one by one. */
export class FrameQueue<T> {
  readonly all: T[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];

  push(item: T): void {
    this.all.push(item);
    for (const w of this.waiters.splice(0)) w();
  }

  /** The next item (after those already taken) matching `pred`; skipped items are consumed. */
  next<S extends T>(pred: (item: T) => item is S, timeoutMs?: number): Promise<S>;
  next(pred?: (item: T) => boolean, timeoutMs?: number): Promise<T>;
  async next(pred: (item: T) => boolean = () => true, timeoutMs = 3000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.cursor < this.all.length) {
        const item = this.all[this.cursor++]!;
        if (pred(item)) return item;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a frame; got ${JSON.stringify(this.all)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

export const isType =
  <K extends ServerFrame['t']>(t: K) =>
  (f: ServerFrame): f is Extract<ServerFrame, { t: K }> =>
    f.t === t;

/** A raw protocol WebSocket client. */
export class WsClient {
  readonly frames = new FrameQueue<ServerFrame>();
  readonly raw: string[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;
  readonly ws: WebSocket;

  constructor(url: string, headers: Record<string, string> = {}, protocols: string[] = []) {
    this.ws = new WebSocket(url, protocols, { headers });
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => {
      const text = (data as Buffer).toString();
      this.raw.push(text);
      // One frame, or a JSON array of the frames the server coalesced in one turn (protocol §4).
      const d = text.startsWith('[') ? decodeServerBatch(text) : decodeServerFrame(text);
      if (!d.ok) throw new Error(`bad server frame ${text}: ${d.reason}`);
      for (const frame of Array.isArray(d.frame) ? d.frame : [d.frame]) this.frames.push(frame);
    });
  }

  static async open(base: string, params: Record<string, string | number | undefined> = {}, protocols: string[] = []): Promise<WsClient> {
    const c = new WsClient(`${base.replace(/^http/, 'ws')}/ws?${qs({ v: 1, ...params })}`, {}, protocols);
    await c.opened;
    return c;
  }

  send(frame: ClientFrame | Record<string, unknown>): void {
    this.ws.send(encodeFrame(frame as ClientFrame));
  }

  welcome(): Promise<WelcomeFrame> {
    return this.frames.next(isType('welcome')) as Promise<WelcomeFrame>;
  }

  close(): void {
    this.ws.close();
  }
}

export interface SseEvent {
  id?: string;
  data: string;
  frame: ServerFrame;
}

/** A raw SSE client over node:http that parses events (protocol §4) and keeps the raw text. */
export class SseClient {
  readonly events = new FrameQueue<SseEvent>();
  /** Each batched event as sent: its `id:` line (the last sequenced frame in it) and how many frames it held. */
  readonly batches: { id: string | undefined; count: number }[] = [];
  text = '';
  status = 0;
  headers: IncomingHttpHeaders = {};
  readonly ended: Promise<void>;
  readonly ready: Promise<void>;
  private req: ReturnType<typeof request>;

  constructor(url: string, headers: Record<string, string> = {}) {
    let onReady!: () => void;
    let onEnd!: () => void;
    this.ready = new Promise((r) => (onReady = r));
    this.ended = new Promise((r) => (onEnd = r));
    this.req = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      onReady();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        this.text += chunk;
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue;
          const text = data.join('\n');
          if (text.startsWith('[')) {
            // A batch (protocol §4): one entry per frame; each sequenced frame is listed under its own id.
            const b = decodeServerBatch(text);
            if (!b.ok) throw new Error(`bad SSE batch: ${b.reason}`);
            for (const frame of b.frame) {
              const own = frame.t === 'msg' || frame.t === 'reply' ? String(frame.id) : undefined;
              this.events.push(own === undefined ? { data: text, frame } : { id: own, data: text, frame });
            }
            this.batches.push({ id, count: b.frame.length });
            continue;
          }
          const d = decodeServerFrame(text);
          if (!d.ok) throw new Error(`bad SSE frame: ${d.reason}`);
          this.events.push(id === undefined ? { data: text, frame: d.frame } : { id, data: text, frame: d.frame });
        }
      });
      res.on('end', onEnd);
      res.on('close', onEnd);
    });
    this.req.on('error', () => onEnd());
    this.req.end();
  }

  static open(base: string, params: Record<string, string | number | undefined> = {}, headers: Record<string, string> = {}): SseClient {
    return new SseClient(`${base}/sse?${qs({ v: 1, ...params })}`, headers);
  }

  async next(pred: (f: ServerFrame) => boolean = () => true, timeoutMs?: number): Promise<SseEvent> {
    return this.events.next((e) => pred(e.frame), timeoutMs);
  }

  async welcome(): Promise<WelcomeFrame> {
    return (await this.next(isType('welcome'))).frame as WelcomeFrame;
  }

  close(): void {
    this.req.destroy();
  }
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  frames: ServerFrame[];
  text: string;
}

async function answer(res: Response): Promise<HttpAnswer> {
  const text = await res.text();
  const d = decodeServerBatch(text);
  return { status: res.status, headers: res.headers, frames: d.ok ? d.frame : [], text };
}

export async function poll(base: string, params: Record<string, string | number | undefined>, init: RequestInit = {}): Promise<HttpAnswer> {
  return answer(await fetch(`${base}/poll?${qs(params)}`, init));
}

export async function post(
  base: string,
  params: Record<string, string | number | undefined>,
  body: string | readonly ClientFrame[],
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return answer(
    await fetch(`${base}/send?${qs(params)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', ...headers },
      body: typeof body === 'string' ? body : encodeBatch(body),
    }),
  );
}

/** Waits until `cond()` holds, checking every few ms, for at most `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

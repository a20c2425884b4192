import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TransportName } from '../protocol/frames';
import { PATHS } from '../protocol/frames';
import type { RealtimeAdapter } from './adapter';
import { MemoryBus, type Bus } from './bus';
import { asksProtocolHeadersOnly, errorFrame, preflight, sendError, sendUnavailable, unavailableFrame } from './http-util';
import { exposeToken, requestParams } from './request-params';
import { parseRequestUrl, rawPath, redactedUrl } from './request-url';
import { checkOrigin, OriginWarnings } from './origin-check';
import { resolveOptions, type ResolvedOptions, type ServerOptions } from './options';
import { PollingHandler } from './polling-handler';
import { SendHandler } from './send-handler';
import { Broadcaster } from './broadcaster';
import type { Session } from './session';
import { SessionManager } from './session-manager';
import { MemorySessionStore } from './session-store';
import { SseHandler } from './sse-handler';
import { WebSocketHandler } from './websocket-handler';

export interface CreateServerOptions extends ServerOptions {
  /** An http.Server to share (its port, its other routes). Without it the server creates one: `rt.httpServer`. */
  server?: Server;
}

/** Server-level events. */
export interface RealtimeServerEvents {
  /** A new session was created (not fired on resumes). */
  connection: (session: Session) => void;
  /** A session's active transport changed (`null`: it waits for a resume). */
  transport: (session: Session, transport: TransportName | null) => void;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The route of a request under our path whose request line is not a URL: answered 400. */
const UNREADABLE = 'unreadable';

/** Seconds a client is told to wait when it reaches a node that is shutting down or shut down. */
const SHUTDOWN_RETRY_AFTER_S = 1;

/**
 * The reference server: `E/ws`, `E/sse`, `E/poll`, `E/send` under one path, sharing an http.Server with the app.
 * `on()` registers server events; `emit()` and `to()` send to clients (as socket.io does).
 */
export class RealtimeServer {
  /** The http.Server in use (created when none was given; then `close()` closes it too). */
  readonly httpServer: Server;
  private readonly opts: ResolvedOptions;
  private readonly bus: Bus;
  private readonly manager: SessionManager;
  private readonly ws: WebSocketHandler;
  private readonly sse: SseHandler;
  private readonly polling: PollingHandler;
  private readonly upstream: SendHandler;
  private readonly originWarnings: OriginWarnings;
  private readonly adapter: RealtimeAdapter | undefined;
  private readonly ownsServer: boolean;
  private readonly listeners: { [K in keyof RealtimeServerEvents]: Set<RealtimeServerEvents[K]> } = {
    connection: new Set(),
    transport: new Set(),
  };
  private readonly disposers: (() => void)[] = [];
  private closing: Promise<void> | null = null;

  constructor(options: CreateServerOptions = {}) {
    const { server, ...rest } = options;
    this.opts = resolveOptions(rest);

    this.adapter = options.adapter;
    const shared = this.adapter?.open(
      {
        replayLimits: { maxMessages: this.opts.replayBufferMaxMessages, maxBytes: this.opts.replayBufferMaxBytes },
        sessionGraceMs: this.opts.sessionGraceMs,
        endedSessionMemoryMs: this.opts.endedSessionMemoryMs,
        heartbeatMs: this.opts.heartbeatMs,
        logger: this.opts.logger,
      },
      {
        release: (sid, cid) => this.manager.released(sid, cid),
        inbox: (sid) => this.manager.drain(sid),
        upstream: (sid, secret, cid, frames) => this.manager.upstream(sid, secret, cid, frames),
        poll: (sid, secret, cid, last, answer) => this.polling.forwarded(sid, secret, cid, last, answer),
      },
    );
    const journal = shared?.journal;
    this.bus = options.bus ?? shared?.bus ?? new MemoryBus();
    this.manager = new SessionManager(
      this.opts,
      options.sessionStore ?? new MemorySessionStore(),
      this.bus,
      { onConnection: (s) => this.fire('connection', s), onTransport: (s, t) => this.fire('transport', s, t) },
      journal,
    );
    this.disposers.push(this.bus.subscribe((target, message, position) => this.manager.deliver(target, message, position)));
    if (this.bus.onLoss) this.disposers.push(this.bus.onLoss(() => this.manager.busLost()));
    this.originWarnings = new OriginWarnings(this.opts.logger);
    this.ws = new WebSocketHandler(this.opts, this.manager, this.originWarnings);
    this.sse = new SseHandler(this.opts, this.manager);
    this.polling = new PollingHandler(this.opts, this.manager, shared?.forwardPoll);
    this.upstream = new SendHandler(this.opts, this.manager, shared?.forward, shared?.forwardable);
    this.ownsServer = server === undefined;
    this.httpServer = server ?? createServer();
    this.attach(this.httpServer);
  }

  /** Number of live sessions (including those waiting for a resume). */
  get sessions(): number {
    return this.manager.store.size;
  }

  on<K extends keyof RealtimeServerEvents>(event: K, listener: RealtimeServerEvents[K]): () => void {
    (this.listeners[event] as Set<RealtimeServerEvents[K]>).add(listener);
    return () => (this.listeners[event] as Set<RealtimeServerEvents[K]>).delete(listener);
  }

  /** Sends an event to every session. Throws `RealtimeServerError('unencodable')` for data JSON cannot carry. */
  emit(event: string, data?: unknown): void {
    new Broadcaster((t, m) => this.bus.publish(t, m), this.opts.maxMessageBytes).emit(event, data);
  }

  /** Selects the sessions that joined `room` (a room name never addresses a session: see `toSession`). */
  to(room: string): Broadcaster {
    return new Broadcaster((t, m) => this.bus.publish(t, m), this.opts.maxMessageBytes).to(room);
  }

  /** Selects one session by id, on whichever process carries it. */
  toSession(sessionId: string): Broadcaster {
    return new Broadcaster((t, m) => this.bus.publish(t, m), this.opts.maxMessageBytes).toSession(sessionId);
  }

  /** A session by id (local store). */
  session(id: string): Session | undefined {
    return this.manager.store.get(id);
  }

  /** Convenience for a server created by us: listens and resolves with the port. */
  listen(port = 0, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(port, host, () => {
        this.httpServer.off('error', reject);
        const addr = this.httpServer.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  /**
   * Handles a request if it is one of ours (`E/sse`, `E/poll`, `E/send`, preflights); returns false otherwise.
   * For frameworks that own the http server.
   */
  handler = (req: IncomingMessage, res: ServerResponse): boolean => {
    const route = this.route(req.url);
    if (!route) return false;
    try {
      this.serve(route, req, res);
    } catch (err) {
      this.failed(req, err);
      if (!res.headersSent) sendError(req, res, 500, 'server_error', 'internal error', this.opts.cors);
      else res.destroy();
    }
    return true;
  };

  private serve(route: string, req: IncomingMessage, res: ServerResponse): void {
    if (route === UNREADABLE) {
      this.opts.logger.warn('unreadable request line refused', { method: req.method, url: redactedUrl(req.url) });
      return sendError(req, res, 400, 'bad_request', 'the request line is not a valid URL', this.opts.cors);
    }
    const cors = this.opts.cors;
    if (this.closing) {
      // A deploy: another node (or this one's successor) will answer, so the client waits and retries; it must not
      // meet the app's 404 and stop for good.
      const message = 'server is shutting down';
      if (route === PATHS.sse && req.method === 'GET') this.sse.refuse(req, res, unavailableFrame(message, SHUTDOWN_RETRY_AFTER_S));
      else sendUnavailable(req, res, cors, message, SHUTDOWN_RETRY_AFTER_S);
      return;
    }
    const refusal = checkOrigin(req, this.opts);
    if (refusal) {
      this.originWarnings.refused(refusal, route.slice(1));
      // The refusal itself is readable cross-origin (it says no more than why), so the client can report it. A
      // preflight asking for the protocol's own headers (every handshake sends the join key) is let through, so the
      // request behind it can be refused readably; one asking for any other header gets no CORS headers, so a
      // foreign page can never send custom headers (X-Forwarded-Host, say). Never with credentials: nothing a refused
      // page sends may carry the user's cookies.
      const refusedCors = { ...cors, credentials: false };
      if (req.method === 'OPTIONS') {
        if (asksProtocolHeadersOnly(req)) preflight(req, res, refusedCors);
        else res.writeHead(403, { 'Content-Length': '0', Vary: 'Origin' }).end();
      }
      else if (route === PATHS.sse) this.sse.refuse(req, res, errorFrame('origin_rejected', refusal.message, 403), refusedCors);
      else sendError(req, res, 403, 'origin_rejected', refusal.message, refusedCors);
      return;
    }
    if (req.method === 'OPTIONS') {
      preflight(req, res, cors);
      return;
    }
    const expected = route === PATHS.send ? 'POST' : 'GET';
    if (route === PATHS.websocket || req.method !== expected) {
      sendError(req, res, route === PATHS.websocket ? 426 : 405, 'bad_request', `use ${route === PATHS.websocket ? 'a WebSocket upgrade' : expected}`, cors);
      return;
    }
    const run = route === PATHS.sse ? this.sse : route === PATHS.polling ? this.polling : this.upstream;
    const params = requestParams(req);
    exposeToken(req, params);
    run.handle(req, res, params).catch((err: unknown) => {
      this.failed(req, err);
      if (!res.headersSent) sendError(req, res, 500, 'server_error', 'internal error', cors);
      else res.destroy();
    });
  }

  /** A handler threw: logged with the request line redacted (a stack of ours never carries the URL). */
  private failed(req: IncomingMessage, err: unknown): void {
    this.opts.logger.error('request handler failed', { method: req.method, url: redactedUrl(req.url), err });
  }


  /** Handles an upgrade if it is for `E/ws`; returns false otherwise. */
  handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const route = this.route(req.url);
    if (route === UNREADABLE) {
      this.opts.logger.warn('unreadable upgrade request line refused', { url: redactedUrl(req.url) });
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    if (route !== PATHS.websocket) return false;
    try {
      this.upgrade(req, socket, head);
    } catch (err) {
      this.failed(req, err);
      socket.destroy();
    }
    return true;
  };

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.closing) {
      // Browsers hide this status: the client falls back to SSE, which carries the same answer in-band.
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${SHUTDOWN_RETRY_AFTER_S}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const params = requestParams(req);
    exposeToken(req, params);
    this.ws.handleUpgrade(req, socket, head, params).catch((err: unknown) => {
      this.failed(req, err);
      socket.destroy();
    });
  }

  /**
   * Tells every connection `close{shutdown}`, ends streams and polls, closes sockets (1001) and clears timers. Closes
   * the http server only if it created it. On a shared server its listener stays: until that server closes (the
   * process exits, in a deploy), realtime requests get 503 + `Retry-After` instead of reaching the app's 404.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const d of this.disposers.splice(0).reverse()) d();
      this.manager.shutdown();
      this.sse.close();
      this.polling.close();
      await this.ws.close();
      await this.adapter?.close();
      if (this.ownsServer && this.httpServer.listening) {
        await new Promise<void>((resolve) => {
          this.httpServer.close(() => resolve());
          this.httpServer.closeAllConnections();
        });
      }
    })();
    return this.closing;
  }

  /**
   * Which of our endpoints a request line names; null when it is not ours (the app's), `UNREADABLE` when it is under
   * our path but cannot be parsed. A line nobody can parse that is not under our path goes to the app untouched.
   */
  private route(url: string | undefined): string | null {
    const parsed = parseRequestUrl(url);
    if (!parsed) return rawPath(url).startsWith(this.opts.path + '/') ? UNREADABLE : null;
    const pathname = parsed.pathname;
    if (!pathname.startsWith(this.opts.path + '/')) return null;
    const rest = pathname.slice(this.opts.path.length);
    return Object.values(PATHS).includes(rest as (typeof PATHS)[keyof typeof PATHS]) ? rest : null;
  }

  /** Puts our request listener in front of the app's, and takes upgrades for `E/ws`, for the server's lifetime. */
  private attach(server: Server): void {
    const original = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const onRequest: RequestListener = (req, res) => {
      if (this.handler(req, res)) return;
      for (const l of original) l.call(server, req, res);
      if (original.length === 0) res.writeHead(404).end();
    };
    server.on('request', onRequest);
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.handleUpgrade(req, socket, head)) return;
      // Nobody else handles upgrades: do not leave the socket hanging.
      if (server.listenerCount('upgrade') === 1) socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    server.on('upgrade', onUpgrade);

  }

  private fire<K extends keyof RealtimeServerEvents>(event: K, ...args: Parameters<RealtimeServerEvents[K]>): void {
    for (const l of [...this.listeners[event]]) {
      try {
        (l as (...a: Parameters<RealtimeServerEvents[K]>) => void)(...args);
      } catch (err) {
        this.opts.logger.error(`${event} listener threw`, { err });
      }
    }
  }
}

/** Creates a realtime server attached to `options.server` (or to a new http.Server, `rt.httpServer`). */
export function createRealtimeServer(options: CreateServerOptions = {}): RealtimeServer {
  return new RealtimeServer(options);
}

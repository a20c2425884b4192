/**
 * Servers that do not speak the realtime-fallback protocol, written the way tutorials write them: an express app
 * with a hand-written SSE route, a JSON polling route and a POST route, and a `ws` WebSocketServer sharing the
 * express server's port. Everything listens on 127.0.0.1, port 0, and records what it saw.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express, { type Response } from 'express';
import { WebSocketServer, type WebSocket } from 'ws';

export interface PlainServerOptions {
  /** `'ws'`: a WebSocketServer on the same port; `'refuse'`: upgrades are destroyed (default `'ws'`). */
  websocket?: 'ws' | 'refuse';
  /** `'stream'`: the SSE route; `'html'`: a proxy's HTML page instead (default `'stream'`). */
  sse?: 'stream' | 'html';
  /** Pause between timed events / counter messages, in ms (tutorials use 1000-2000). Default 150. */
  tickMs?: number;
  /** The `retry:` the SSE route announces, in ms. Default 300. */
  retryMs?: number;
  /** Extra routes (the Chromium test serves its page and the bundle). */
  routes?(app: express.Express): void;
}

export interface PlainServer {
  /** http://127.0.0.1:port */
  origin: string;
  /** ws://127.0.0.1:port/ */
  wsUrl: string;
  /** Text frames the WebSocketServer received. */
  wsReceived: string[];
  /** WebSocket connections accepted, and upgrades refused. */
  wsConnections: number;
  wsRefused: number;
  /** `Last-Event-ID` header of each SSE request (undefined: none), with the time it arrived. */
  sseRequests: { lastEventId: string | undefined; at: number }[];
  /** Times at which an SSE stream was dropped by {@link dropStreams}. */
  dropTimes: number[];
  /** `cursor` query parameter of each poll. */
  pollCursors: (string | undefined)[];
  /** JSON bodies POSTed to /send, with their Content-Type. */
  posted: { body: unknown; contentType: string | undefined }[];
  /** Timed events produced so far (the SSE `tick` and poll messages number them from 1). */
  ticks(): number;
  /** From now on: accept WebSocket upgrades (a server started with `websocket: 'refuse'`). */
  acceptWebSockets(): void;
  /** From now on: the SSE route answers the given way. */
  setSse(mode: 'stream' | 'html'): void;
  /** Ends every open event stream (the client sees the stream end); returns how many. */
  dropStreams(): number;
  close(): Promise<void>;
}

export async function startPlainServer(options: PlainServerOptions = {}): Promise<PlainServer> {
  const tickMs = options.tickMs ?? 150;
  let sseMode = options.sse ?? 'stream';
  let refusing = options.websocket === 'refuse';
  const retryMs = options.retryMs ?? 300;
  const app = express();
  const server: Server = createServer(app);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const state: Omit<PlainServer, 'origin' | 'wsUrl' | 'ticks' | 'acceptWebSockets' | 'setSse' | 'dropStreams' | 'close'> = {
    wsReceived: [],
    wsConnections: 0,
    wsRefused: 0,
    sseRequests: [],
    dropTimes: [],
    pollCursors: [],
    posted: [],
  };

  // One timeline of timed events, numbered from 1, so a reconnecting client can resume after an id.
  let tick = 0;
  const streams = new Set<Response>();
  const writeTick = (res: Response, n: number): void => {
    res.write(`id: ${n}\nevent: tick\ndata: ${JSON.stringify({ n })}\n\n`);
  };
  const ticker = setInterval(() => {
    tick++;
    for (const res of streams) writeTick(res, tick);
  }, tickMs);

  app.use(express.json());
  options.routes?.(app);

  // ---- SSE, as in the tutorials ------------------------------------------------------------------
  app.get('/events', (req, res) => {
    const lastEventId = req.get('Last-Event-ID');
    state.sseRequests.push({ lastEventId, at: Date.now() });
    if (sseMode === 'html') {
      res.status(200).type('html').send('<html><body>Please log in to the proxy</body></html>');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.write(': hi\n\n');
    if (lastEventId === undefined) {
      // A fresh client: a greeting without id, plain text, then a named event that sets id and retry.
      res.write(`data: ${JSON.stringify({ hello: 'world' })}\n\n`);
      res.write('data: just text\n\n');
      res.write(`event: greeting\nid: 0\nretry: ${retryMs}\ndata: ${JSON.stringify({ lines: ['a', 'b'] })}\n\n`);
    }
    // Resume after the id the client had (replay from our timeline), then go live.
    const after = lastEventId === undefined ? tick : Number(lastEventId);
    for (let n = after + 1; n <= tick; n++) writeTick(res, n);
    streams.add(res);
    res.on('close', () => streams.delete(res));
  });

  // ---- JSON polling and the send route --------------------------------------------------------------
  app.get('/poll', (req, res) => {
    const cursor = typeof req.query.cursor === 'string' ? req.query.cursor : undefined;
    state.pollCursors.push(cursor);
    const after = cursor === undefined ? 0 : Number(cursor);
    const messages = [];
    for (let n = after + 1; n <= tick; n++) messages.push({ event: 'tick', data: { n } });
    res.json({ messages, cursor: String(tick) });
  });

  app.post('/send', (req, res) => {
    state.posted.push({ body: req.body as unknown, contentType: req.get('Content-Type') });
    res.sendStatus(204);
  });

  // ---- WebSocket on the same port ------------------------------------------------------------------
  const onConnection = (ws: WebSocket): void => {
    state.wsConnections++;
    let n = 0;
    const timer = setInterval(() => ws.send(JSON.stringify({ event: 'count', data: ++n })), tickMs);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) state.wsReceived.push(data.toString());
    });
    ws.on('close', () => clearInterval(timer));
    // A tutorial's extra: plain text and binary frames.
    ws.send('plain text');
    ws.send(Buffer.from([1, 2, 3]));
  };
  let wss: WebSocketServer;
  if (!refusing) {
    wss = new WebSocketServer({ server });
  } else {
    // Upgrades are destroyed (as a proxy without WebSocket support does) until acceptWebSockets().
    wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (refusing) {
        state.wsRefused++;
        socket.destroy();
      } else {
        wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      }
    });
  }
  wss.on('connection', onConnection);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    origin: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/`,
    ticks: () => tick,
    acceptWebSockets: () => {
      refusing = false;
    },
    setSse: (mode: 'stream' | 'html') => {
      sseMode = mode;
    },
    dropStreams: () => {
      const count = streams.size;
      for (const res of streams) res.end();
      streams.clear();
      if (count > 0) state.dropTimes.push(Date.now());
      return count;
    },
    close: async () => {
      clearInterval(ticker);
      for (const res of streams) res.end();
      streams.clear();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** Polls `check` every 10 ms until it returns true, failing after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Shows the reconnecting-websocket 4.4.0 behaviour that made WebSocketTransport use one RWS instance per attempt
 * with `maxRetries: 0` (src/transports/websocket.ts).
 *
 * In RWS 4.4.0 `_connect()` sets `_connectLock = true` and then, when `_retryCount >= maxRetries`, returns without
 * clearing it. `reconnect()` resets `_retryCount` but calls `_connect()`, which returns at once because of the lock:
 * an instance that reached maxRetries can never connect again. Our transports never call `reconnect()`; the
 * owner's scheduler makes a new transport (a new RWS instance) for every attempt.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import ReconnectingWebSocket from 'reconnecting-websocket';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { settle, until } from '../../transports/helpers';

let wss: WebSocketServer;
let url: string;
let connections = 0;

beforeEach(async () => {
  connections = 0;
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  // Every connection is closed by the server at once: each counts as one attempt.
  wss.on('connection', (socket) => {
    connections++;
    socket.close(4503, 'go away');
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
});

afterEach(async () => {
  await new Promise<void>((r) => wss.close(() => r()));
});

it('RWS 4.4.0: after maxRetries is reached, reconnect() silently does nothing; only a new instance connects', async () => {
  const closes: number[] = [];
  const rws = new ReconnectingWebSocket(url, undefined, { WebSocket: NodeWebSocket, maxRetries: 0, connectionTimeout: 10_000 });
  rws.addEventListener('close', (e) => {
    closes.push(e.code);
  });
  await until(() => closes.length === 1, 3000, 'first close');
  expect(connections).toBe(1);
  expect(closes).toEqual([4503]);

  // Retry budget exhausted. reconnect() resets the retry count, but the leftover _connectLock makes _connect() a
  // no-op. RWS's first-attempt delay is 0 ms, so 300 ms is far more than a reconnect would take.
  rws.reconnect();
  await settle(300);
  expect(connections).toBe(1);
  expect(rws.readyState).toBe(ReconnectingWebSocket.CLOSED);

  // A fresh instance (what WebSocketTransport does for each attempt) connects normally.
  const fresh = new ReconnectingWebSocket(url, undefined, { WebSocket: NodeWebSocket, maxRetries: 0, connectionTimeout: 10_000 });
  await until(() => connections === 2, 3000, 'second connection');
  fresh.close();
  rws.close();
});

/**
 * Request lines no URL parser accepts (issue: one request line killed any process serving the server): ours get a
 * 400 and a log line without query values, the app's reach the app untouched, and the process keeps serving.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRequestUrl, rawPath, redactedUrl } from '../../src/server/request-url';
import { closeAll, poll, startServer, WsClient } from './helpers';

afterEach(closeAll);

/** Sends raw bytes and resolves with everything the server answered until it closed the connection (or 2 s). */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(answer);
    }, 2000);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.on('error', reject);
  });
}

const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`;
const upgrade = (target: string): string =>
  get(target, 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n');

describe('request lines that are not URLs', () => {
  it('are read without throwing', () => {
    for (const line of ['//[', '//x:99999/', 'http://[', 'http://[/realtime/poll?v=1', '/%', '']) {
      expect(() => parseRequestUrl(line)).not.toThrow();
    }
    expect(parseRequestUrl('//x:99999/')?.pathname).toBe('//x:99999/');
    expect(parseRequestUrl('http://[')).toBeNull();
    expect(rawPath('http://[/realtime/poll?v=1')).toBe('/realtime/poll');
    expect(redactedUrl('/realtime/poll?v=1&secret=s3cr3t&x')).toBe('/realtime/poll?v=…&secret=…&x=…');
  });

  it('over HTTP and upgrades: the app gets its own, ours get 400, the process keeps serving', async () => {
    const appSaw: string[] = [];
    const s = await startServer({}, (req, res) => {
      appSaw.push(req.url ?? '');
      res.writeHead(200).end('app');
    });
    for (const target of ['//[', '//x:99999/', 'http://[']) {
      expect(await rawExchange(s.port, get(target))).toMatch(/^HTTP\/1\.1 200[^]*\r\napp\r\n/);
      expect(await rawExchange(s.port, upgrade(target))).toMatch(/^HTTP\/1\.1 404/);
    }
    expect(appSaw).toEqual(['//[', '//x:99999/', 'http://[']);

    const ours = await rawExchange(s.port, get('http://[/realtime/poll?v=1&secret=s3cr3t'));
    expect(ours).toMatch(/^HTTP\/1\.1 400/);
    expect(ours).toContain('"code":"bad_request"');
    expect(await rawExchange(s.port, upgrade('http://[/realtime/ws?v=1&secret=s3cr3t'))).toMatch(/^HTTP\/1\.1 400/);
    const logged = JSON.stringify(s.logger.warnings);
    expect(logged).toContain('/realtime/poll?v=…&secret=…');
    expect(logged).not.toContain('s3cr3t');

    // Still serving, on every route.
    expect((await poll(s.base, { v: 1 })).status).toBe(200);
    const ws = await WsClient.open(s.base);
    expect((await ws.welcome()).t).toBe('welcome');
  });
});

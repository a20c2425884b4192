import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { compileTrust, requestPeer } from '../../src/server/proxy-trust';
import { OriginWarnings } from '../../src/server/origin-check';

const req = (remoteAddress: string, headers: Record<string, string> = {}, encrypted = false): IncomingMessage =>
  ({ socket: { remoteAddress, encrypted }, headers: { host: 'internal:8080', ...headers } }) as unknown as IncomingMessage;

describe('compileTrust', () => {
  it('trusts nothing, everything, or the nearest n hops', () => {
    expect(compileTrust(false)('127.0.0.1', 0)).toBe(false);
    expect(compileTrust(true)('203.0.113.1', 5)).toBe(true);
    const two = compileTrust(2);
    expect([0, 1, 2].map((hop) => two('203.0.113.1', hop))).toEqual([true, true, false]);
  });

  it('matches addresses, CIDR ranges and named ranges, IPv4 and IPv6, IPv4-mapped included', () => {
    const t = compileTrust(['10.1.2.3', '192.0.2.0/24', 'fd00::/8', 'loopback']);
    expect(t('10.1.2.3', 0)).toBe(true);
    expect(t('10.1.2.4', 0)).toBe(false);
    expect(t('192.0.2.77', 0)).toBe(true);
    expect(t('fd12::1', 0)).toBe(true);
    expect(t('fe80::1', 0)).toBe(false);
    expect(t('127.5.5.5', 0)).toBe(true);
    expect(t('::1', 0)).toBe(true);
    expect(t('::ffff:10.1.2.3', 0)).toBe(true);
    expect(t('unknown', 0)).toBe(false);
    const lan = compileTrust(['uniquelocal', 'linklocal']);
    expect(['10.0.0.1', '172.20.0.1', '192.168.1.1', '169.254.1.1', 'fe80::2'].every((a) => lan(a, 0))).toBe(true);
    expect(lan('172.32.0.1', 0)).toBe(false);
  });

  it('refuses malformed settings with a RangeError naming the entry', () => {
    expect(() => compileTrust(-1)).toThrow(RangeError);
    expect(() => compileTrust(1.5)).toThrow(/hop count/);
    expect(() => compileTrust(['10.0.0.0/33'])).toThrow(/"10.0.0.0\/33"/);
    expect(() => compileTrust(['nginx'])).toThrow(/"nginx"/);
    expect(() => compileTrust(['::1/129'])).toThrow(RangeError);
    expect(() => compileTrust('loopback' as never)).toThrow(RangeError);
  });
});

describe('requestPeer', () => {
  const xff = { 'x-forwarded-for': '198.51.100.7, 203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example' };

  it('ignores forwarded headers from an untrusted peer', () => {
    expect(requestPeer(req('127.0.0.1', xff), compileTrust(false))).toEqual({
      address: '127.0.0.1',
      proto: 'http',
      host: 'internal:8080',
      viaTrustedProxy: false,
    });
    expect(requestPeer(req('::ffff:127.0.0.1', {}, true), compileTrust(false))).toMatchObject({ address: '127.0.0.1', proto: 'https' });
  });

  it('walks X-Forwarded-For from the server outwards to the first untrusted hop', () => {
    expect(requestPeer(req('127.0.0.1', xff), compileTrust(['loopback']))).toEqual({
      address: '203.0.113.5',
      proto: 'https',
      host: 'app.example',
      viaTrustedProxy: true,
    });
    expect(requestPeer(req('127.0.0.1', xff), compileTrust(['loopback', '203.0.113.0/24'])).address).toBe('198.51.100.7');
    expect(requestPeer(req('127.0.0.1', xff), compileTrust(1)).address).toBe('203.0.113.5');
    expect(requestPeer(req('127.0.0.1', xff), compileTrust(2)).address).toBe('198.51.100.7');
    // Every hop trusted: the leftmost address is the client.
    expect(requestPeer(req('127.0.0.1', xff), compileTrust(true)).address).toBe('198.51.100.7');
    // A trusted proxy that forwarded nothing: its own address, and this server's Host.
    expect(requestPeer(req('127.0.0.1'), compileTrust(true))).toMatchObject({ address: '127.0.0.1', host: 'internal:8080', proto: 'http' });
  });

  it('reads RFC 7239 Forwarded in preference, with quoted IPv6 nodes and ports', () => {
    const headers = { forwarded: 'for="[2001:db8::1]:4711";proto=https;host=app.example, for=192.0.2.60:80', ...xff };
    expect(requestPeer(req('127.0.0.1', headers), compileTrust(['loopback']))).toEqual({
      address: '192.0.2.60',
      proto: 'https',
      host: 'app.example',
      viaTrustedProxy: true,
    });
    expect(requestPeer(req('127.0.0.1', headers), compileTrust(2)).address).toBe('2001:db8::1');
  });

  it('keeps its own scheme when a proxy forwards a strange one', () => {
    expect(requestPeer(req('127.0.0.1', { 'x-forwarded-proto': 'gopher' }), compileTrust(true)).proto).toBe('http');
    expect(requestPeer(req('127.0.0.1', { 'x-forwarded-proto': 'HTTPS, http' }), compileTrust(true)).proto).toBe('https');
  });
});

describe('OriginWarnings', () => {
  it('warns once per origin per 10 minutes, and says how many refusals it did not log', () => {
    const logged: Record<string, unknown>[] = [];
    let now = 0;
    const warnings = new OriginWarnings({ debug() {}, error() {}, warn: (_m, meta) => void logged.push(meta!) }, () => now);
    const refusal = (origin: string) => ({ origin, message: 'm', serverOrigin: 'http://internal:8080' });
    for (let i = 0; i < 50; i++) warnings.refused(refusal('https://a.example'), 'poll');
    warnings.refused(refusal('https://b.example'), 'websocket');
    now = 9 * 60_000;
    warnings.refused(refusal('https://a.example'), 'poll');
    expect(logged.map((m) => m.origin)).toEqual(['https://a.example', 'https://b.example']);
    now = 10 * 60_000;
    warnings.refused(refusal('https://a.example'), 'poll');
    expect(logged.map((m) => m.origin)).toEqual(['https://a.example', 'https://b.example', 'https://a.example']);
    expect(logged[2]).toMatchObject({ refusalsNotLoggedSinceLastWarning: 50 });
  });

  it('remembers a bounded number of origins', () => {
    let count = 0;
    let now = 0;
    const warnings = new OriginWarnings({ debug() {}, error() {}, warn: (m) => void (m.startsWith('refused a ') && count++) }, () => now);
    // One origin a minute: the global rate limit never applies.
    for (let i = 0; i < 5000; i++, now += 60_000) warnings.refused({ origin: `https://${i}.example`, message: 'm', serverOrigin: undefined }, 'poll');
    // The first origins were forgotten, so they are warned about again; the newest are still remembered.
    warnings.refused({ origin: 'https://0.example', message: 'm', serverOrigin: undefined }, 'poll');
    warnings.refused({ origin: 'https://4999.example', message: 'm', serverOrigin: undefined }, 'poll');
    expect(count).toBe(5001);
  });

  it('logs at most 20 lines a minute however many origins are refused, then says how many it did not log', () => {
    const lines: string[] = [];
    let now = 0;
    const warnings = new OriginWarnings({ debug() {}, error() {}, warn: (m) => void lines.push(m) }, () => now);
    for (let i = 0; i < 5000; i++) warnings.refused({ origin: `https://${i}.example`, message: 'm', serverOrigin: undefined }, 'poll');
    expect(lines).toHaveLength(20);
    now = 60_000;
    warnings.refused({ origin: 'https://late.example', message: 'm', serverOrigin: undefined }, 'poll');
    expect(lines).toHaveLength(22);
    expect(lines[20]).toBe('refused 4980 more requests from origins not logged (over 20 lines a minute)');
    expect(lines[21]).toContain('https://late.example');
  });
});

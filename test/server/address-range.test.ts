import { describe, expect, it } from 'vitest';
import { addressRange } from '../../src/server/address-range';

const defaults = { ipv4: 32, ipv6: 64 };

describe('addressRange', () => {
  it('keeps an IPv4 address whole by default, and cuts it to a configured prefix', () => {
    expect(addressRange('203.0.113.7', defaults)).toBe('203.0.113.7');
    expect(addressRange('::ffff:203.0.113.7', defaults)).toBe('203.0.113.7');
    expect(addressRange('203.0.113.7', { ...defaults, ipv4: 24 })).toBe('203.0.113.0/24');
    expect(addressRange('203.0.113.200', { ...defaults, ipv4: 25 })).toBe('203.0.113.128/25');
    expect(addressRange('203.0.113.7', { ...defaults, ipv4: 0 })).toBe('0.0.0.0/0');
  });

  it('puts every address of one IPv6 /64 in one range, however it is written', () => {
    const keys = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:db8:1:2::5%eth0', '2001:db8:1:2::1.2.3.4'].map(
      (a) => addressRange(a, defaults),
    );
    expect(new Set(keys).size).toBe(1);
    expect(addressRange('2001:db8:1:3::1', defaults)).not.toBe(keys[0]);
    expect(addressRange('::1', defaults)).toBe('0:0:0:0:/64');
    expect(addressRange('2001:db8:1:2::1', { ...defaults, ipv6: 48 })).toBe(addressRange('2001:db8:1:ffff::1', { ...defaults, ipv6: 48 }));
    expect(addressRange('2001:db8:1:2::1', { ...defaults, ipv6: 52 })).not.toBe(addressRange('2001:db8:1:f002::1', { ...defaults, ipv6: 52 }));
  });

  it('leaves what is not an address as it is', () => {
    expect(addressRange('', defaults)).toBe('');
    expect(addressRange('not-an-ip', defaults)).toBe('not-an-ip');
  });
});

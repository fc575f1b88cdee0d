import { describe, expect, it } from '@jest/globals';
import { ipKey, ipPrefixes } from './ip-key.js';

describe(ipKey.name, () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::7', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('keys %s as %s', (ip, key) => {
    expect(ipKey(ip)).toBe(key);
  });

  it('puts every address of one IPv6 /64 under one key, and another /64 under another', () => {
    expect(ipKey('2001:db8:1:2:aaaa::1')).toBe(ipKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(ipKey('2001:db8:1:3::1')).not.toBe(ipKey('2001:db8:1:2::1'));
  });
});

describe(ipPrefixes.name, () => {
  it('counts IPv4 under its /32 (the budget) and its /24 (5×)', () => {
    expect(ipPrefixes('203.0.113.9')).toEqual([
      { key: '203.0.113.9', factor: 1 },
      { key: '203.0.113.0/24', factor: 5 },
    ]);
  });

  it('counts IPv6 under its /64 (the budget), /56 (5×) and /48 (20×)', () => {
    expect(ipPrefixes('2001:db8:1:2abc::7')).toEqual([
      { key: '2001:db8:1:2abc::/64', factor: 1 },
      { key: '2001:db8:1:2a00::/56', factor: 5 },
      { key: '2001:db8:1:0::/48', factor: 20 },
    ]);
  });

  it('gives addresses rotated inside one /48 the same /48 key', () => {
    const keys = ['2001:db8:1:1::1', '2001:db8:1:ff00::1', '2001:db8:1:ffff:1::1'].map(
      (ip) => ipPrefixes(ip)[2].key,
    );
    expect(new Set(keys).size).toBe(1);
  });

  it('keys a forwarded ip:port by the address, so ports do not get budgets of their own', () => {
    expect(ipPrefixes('203.0.113.9:1234')).toEqual(ipPrefixes('203.0.113.9'));
  });
});

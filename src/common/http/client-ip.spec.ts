import { describe, expect, it } from '@jest/globals';
import { normaliseIp } from './client-ip.js';

describe(normaliseIp.name, () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['203.0.113.9:51234', '203.0.113.9'],
    ['  203.0.113.9  ', '203.0.113.9'],
    ['2001:DB8:0:0::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['::1', '::1'],
  ])('reads %j as %s', (value, ip) => {
    expect(normaliseIp(value)).toBe(ip);
  });

  it.each([
    ['a host name', 'proxy.internal'],
    ['a number', '12345'],
    ['an out-of-range octet', '203.0.113.300'],
    ['leading zeros', '010.0.0.1'],
    ['two addresses', '1.2.3.4, 5.6.7.8'],
    ['a very long value', 'a'.repeat(5000)],
    ['an empty string', ''],
    ['unknown (what some proxies write)', 'unknown'],
  ])('refuses %s', (_label, value) => {
    expect(normaliseIp(value)).toBeUndefined();
  });
});

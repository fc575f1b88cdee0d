import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../app-config.js';

describe('TRUST_PROXY: IPv4-mapped IPv6 CIDRs are judged as the IPv4 range they cover', () => {
  it.each([
    ['all of IPv4, written as ::ffff:0:0/96', '::ffff:0.0.0.0/96'],
    ['0.0.0.0/1, written as ::ffff:0:0/97', '::ffff:0:0/97'],
    ['a /7, written as ::ffff:a00:0/103', '::ffff:10.0.0.0/103'],
  ])('refuses %s', (_label, value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
  });

  it('accepts a mapped /8 (::ffff:10.0.0.0/104) like 10.0.0.0/8', () => {
    expect(loadConfig({ TRUST_PROXY: '::ffff:10.0.0.0/104' }).http.trustProxy).toEqual([
      '::ffff:10.0.0.0/104',
    ]);
  });
});

import { ipv6Groups, normaliseIp } from '../common/index.js';

/**
 * The key a client address is limited under: IPv4 as is, IPv6 by its /64 (one subscriber usually holds a
 * whole /64, so per-address keys would let a single client rotate through 2^64 budgets).
 */
export function ipKey(ip: string): string {
  return ipPrefixes(ip)[0].key;
}

export interface IpPrefix {
  /** `203.0.113.9`, `203.0.113.0/24`, `2001:db8:1:2::/64`, … */
  key: string;
  /** How many times the per-IP budget this prefix gets. */
  factor: number;
}

/**
 * The prefixes an address is counted under, each its own bucket: IPv4 /32 (the budget) and /24 (5×);
 * IPv6 /64 (the budget), /56 (5×) and /48 (20×). Rotating addresses inside one allocation (a /24, a /48)
 * does not multiply the budget. Something that is not an IP is counted as itself, cut to 64 characters.
 */
export function ipPrefixes(ip: string): IpPrefix[] {
  const address = normaliseIp(ip);
  if (!address) return [{ key: ip.slice(0, 64), factor: 1 }];
  if (!address.includes(':')) {
    const octets = address.split('.');
    return [
      { key: address, factor: 1 },
      { key: `${octets.slice(0, 3).join('.')}.0/24`, factor: 5 },
    ];
  }
  const groups = ipv6Groups(address)!;
  const prefix = (bits: number) => {
    const kept = groups.map((g, i) =>
      i * 16 >= bits ? 0 : i * 16 + 16 <= bits ? g : g & (0xffff << (16 - (bits - i * 16))),
    );
    return `${kept
      .slice(0, 4)
      .map((g) => g.toString(16))
      .join(':')}::/${bits}`;
  };
  return [
    { key: prefix(64), factor: 1 },
    { key: prefix(56), factor: 5 },
    { key: prefix(48), factor: 20 },
  ];
}

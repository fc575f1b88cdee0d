import { isIP } from 'node:net';

/**
 * The client's address as one canonical IP string, or undefined when `value` is not an IP. Accepts what a
 * proxy may put in `X-Forwarded-For`: `1.2.3.4:5678` (port dropped), `[2001:db8::1]:443` (brackets and
 * port dropped), a zone (`fe80::1%eth0`, dropped), IPv6 in any spelling (lower-cased and compressed), and
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4` → `1.2.3.4`).
 */
export function normaliseIp(value: string | undefined): string | undefined {
  if (typeof value !== 'string' || value.length > 64) return undefined;
  let ip = value.trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(ip);
  if (bracketed) ip = bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(ip);
  if (v4WithPort) ip = v4WithPort[1];
  ip = ip.split('%')[0];
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family !== 6) return undefined;
  const groups = ipv6Groups(ip);
  if (!groups) return undefined;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
  }
  // The WHATWG URL parser writes IPv6 in its canonical form (RFC 5952).
  return new URL(`http://[${ip}]`).hostname.slice(1, -1);
}

/** The eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail counts as two groups). */
export function ipv6Groups(ip: string): number[] | undefined {
  const [head, tail] = ip.toLowerCase().split('%')[0].split('::');
  const parse = (part: string | undefined): number[] => {
    if (!part) return [];
    return part.split(':').flatMap((group) => {
      if (group.includes('.')) {
        const [a, b, c, d] = group.split('.').map(Number);
        return [(a << 8) | b, (c << 8) | d];
      }
      return [parseInt(group, 16)];
    });
  };
  const left = parse(head);
  const right = ip.includes('::') ? parse(tail) : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
    : left;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

import { isIP } from 'node:net';
import { type Env, int, list, optionalString } from '../../config/index.js';
import { ipv6Groups } from './client-ip.js';

/** proxy-addr's names for address ranges, accepted in TRUST_PROXY. */
const TRUST_PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * The HTTP edge: where the server listens, which proxies' `X-Forwarded-For` is believed (`TRUST_PROXY`:
 * false = the socket address), and which browser origins may call the API (`CORS_ORIGINS`; none = no
 * cross-origin access).
 */
export function loadHttpConfig(env: Env) {
  const corsOrigins = list(env.read('CORS_ORIGINS', optionalString));
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      env.problem('CORS_ORIGINS', `${origin} is not an origin like https://app.example.com`);
    }
  }
  const host = env.read('HOST', optionalString) ?? (env.production ? '0.0.0.0' : '127.0.0.1');
  if (!env.production && !isLoopback(host)) {
    env.problem(
      'HOST',
      `${host} is reachable from other machines, but NODE_ENV=${env.nodeEnv} has development defaults ` +
        '(console SMS, generated secrets, no limits required): listen on 127.0.0.1, or set NODE_ENV=production',
    );
  }
  return {
    port: env.read('PORT', int(3000, 0, 65535)),
    host,
    trustProxy: trustProxyOf(env),
    corsOrigins,
  };
}

/** The HTTP slice of the configuration (DI token). */
export abstract class HttpConfig {}
export interface HttpConfig extends ReturnType<typeof loadHttpConfig> {}

/** `TRUST_PROXY`: unset or `false` → off; otherwise every listed entry must be a proxy-addr entry. */
function trustProxyOf(env: Env): false | string[] {
  const value = env.read('TRUST_PROXY', optionalString);
  if (value === undefined || value === 'false') return false;
  const entries = list(value);
  const bad = entries.filter((entry) => !isTrustProxyEntry(entry));
  if (bad.length || entries.length === 0) {
    env.problem(
      'TRUST_PROXY',
      `${bad.length ? bad.map((b) => JSON.stringify(b)).join(', ') : JSON.stringify(value)} not accepted; ` +
        'use false (or leave it unset) for off, or a comma-separated list of IP addresses (10.0.0.1, ::1), ' +
        `CIDRs no wider than /8 (IPv4) or /32 (IPv6) (10.0.0.0/8, fd00::/32) and the keywords ${TRUST_PROXY_KEYWORDS.join(', ')}`,
    );
  }
  return entries;
}

/**
 * One TRUST_PROXY entry as Fastify's proxy-addr takes it: an IPv4/IPv6 address, a CIDR, or a keyword. A
 * CIDR may be no wider than /8 (IPv4) or /32 (IPv6): trusting a wider range believes forwarded addresses
 * from most of the Internet.
 */
function isTrustProxyEntry(entry: string): boolean {
  if (TRUST_PROXY_KEYWORDS.includes(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash === -1) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const prefix = entry.slice(slash + 1);
  if (family === 0 || !/^[0-9]{1,3}$/.test(prefix)) return false;
  const bits = Number(prefix);
  if (family === 4) return bits >= 8 && bits <= 32;
  // IPv4 peers are matched as IPv4-mapped IPv6 (::ffff:0:0/96): a CIDR reaching into that range is judged
  // as the IPv4 range it covers (::ffff:0:0/96 would trust every IPv4 address).
  if (coversMappedIpv4(entry.slice(0, slash), bits)) return bits >= 96 + 8 && bits <= 128;
  return bits >= 32 && bits <= 128;
}

/** Whether `address/bits` includes IPv4-mapped addresses (::ffff:a.b.c.d). */
function coversMappedIpv4(address: string, bits: number): boolean {
  const groups = ipv6Groups(address);
  if (!groups) return false;
  const mapped = [0, 0, 0, 0, 0, 0xffff];
  const compared = Math.min(bits, 96);
  for (let bit = 0; bit < compared; bit++) {
    const group = Math.floor(bit / 16);
    const mask = 0x8000 >> (bit % 16);
    if ((groups[group] & mask) !== (mapped[group] & mask)) return false;
  }
  return true;
}

/** 127.0.0.0/8, ::1 and localhost: only this machine can connect. */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

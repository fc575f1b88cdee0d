import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../app-config.js';
import { ServerKeys } from '../common/index.js';
import { DeliveryReportLinks } from './delivery-report-links.js';

const XOXZO = {
  XOXZO_API_SID: 'ACsid',
  XOXZO_API_AUTH_TOKEN: 'token',
  PUBLIC_BASE_URL: 'https://auth.example.com/',
};
const SECRET = 'delivery-report-links-spec-secret-0123456789';

function links(env: Record<string, string> = XOXZO, secret = SECRET): DeliveryReportLinks {
  return new DeliveryReportLinks(loadConfig({ JWT_SECRET: secret, ...env }).sms, new ServerKeys({ secret }));
}

function parts(url: string | undefined): { id: string | null; sig: string | null; base: string } {
  const parsed = new URL(url!);
  return {
    id: parsed.searchParams.get('id'),
    sig: parsed.searchParams.get('sig'),
    base: parsed.origin + parsed.pathname,
  };
}

describe(DeliveryReportLinks.name, () => {
  it('signs each row id into its callback URL, under PUBLIC_BASE_URL', () => {
    const id = randomUUID();
    const { base, id: named, sig } = parts(links().urlFor(id));
    expect(base).toBe('https://auth.example.com/sms/xoxzo/delivery-reports');
    expect(named).toBe(id);
    expect(sig).toMatch(/^[0-9a-f]{32}$/);
    expect(links().verified(named, sig)).toBe(id);
  });

  it('refuses another row, a changed signature, another secret, and anything malformed', () => {
    const id = randomUUID();
    const { sig } = parts(links().urlFor(id));
    expect(links().verified(randomUUID(), sig)).toBeUndefined();
    expect(links().verified(id, `${sig!.slice(0, -1)}${sig!.endsWith('a') ? 'b' : 'a'}`)).toBeUndefined();
    expect(links(XOXZO, `${SECRET}-other`).verified(id, sig)).toBeUndefined();
    for (const [badId, badSig] of [
      [id, undefined],
      [undefined, sig],
      [id, sig!.toUpperCase()],
      [id.toUpperCase(), sig],
      [id, `${sig}00`],
      [[id], [sig]],
      [`${id} `, sig],
    ]) {
      expect(links().verified(badId, badSig)).toBeUndefined();
    }
  });

  it('asks for no reports without PUBLIC_BASE_URL, or with the console driver', () => {
    const { PUBLIC_BASE_URL: _, ...noBase } = XOXZO;
    expect(links(noBase).urlFor(randomUUID())).toBeUndefined();
    expect(
      links({ SMS_DRIVER: 'console', PUBLIC_BASE_URL: 'https://a.example' }).urlFor(randomUUID()),
    ).toBeUndefined();
  });
});

import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../app-config.js';
import { SmsTestNumbers } from '../../sms/test-numbers.js';
import { ServerKeys } from '../../common/index.js';
import { AuthKeys } from '../auth-keys.js';
import { PinService } from './pin.service.js';

const SECRET = 'pin-service-spec-secret-0123456789abcdef';

function pinService(env: Record<string, string> = {}, secret = SECRET): PinService {
  const config = loadConfig({ JWT_SECRET: secret, ...env });
  return new PinService(
    config.pin,
    new AuthKeys(new ServerKeys(config.jwt)),
    new SmsTestNumbers(config.sms.testNumbers),
  );
}

describe(PinService.name, () => {
  describe('generate', () => {
    it.each([4, 6, 8])('gives %i zero-padded decimal digits', (length) => {
      const pins = pinService({ PIN_LENGTH: String(length) });
      const format = new RegExp(`^[0-9]{${length}}$`);
      for (let i = 0; i < 2000; i += 1) expect(pins.generate()).toMatch(format);
    });

    it.each([4, 6, 8])('uses every digit in every position over many draws (length %i)', (length) => {
      const pins = pinService({ PIN_LENGTH: String(length) });
      const seen = Array.from({ length }, () => new Set<string>());
      let leadingZeros = 0;
      for (let i = 0; i < 20000; i += 1) {
        const pin = pins.generate();
        if (pin.length !== length) throw new Error(`PIN of the wrong length: ${pin}`);
        for (let p = 0; p < length; p += 1) seen[p].add(pin[p]);
        if (pin.startsWith('0')) leadingZeros += 1;
      }
      // Each digit misses a position in 20000 uniform draws with probability 0.9^20000: never.
      expect(seen.map((digits) => digits.size)).toEqual(Array<number>(length).fill(10));
      expect(leadingZeros).toBeGreaterThan(0);
    });

    it('does not repeat itself', () => {
      const pins = pinService({ PIN_LENGTH: '8' });
      const drawn = new Set(Array.from({ length: 1000 }, () => pins.generate()));
      // 1000 draws out of 10^8: a collision has probability ~0.5%; more than a few means a broken generator.
      expect(drawn.size).toBeGreaterThan(995);
    });
  });

  describe('hash', () => {
    const attemptId = randomUUID();

    it('is a 32-byte HMAC-SHA256, stable for the same PIN and attempt', () => {
      const pins = pinService();
      const hash = pins.hash('123456', attemptId);
      expect(hash).toBeInstanceOf(Buffer);
      expect(hash).toHaveLength(32);
      expect(pins.hash('123456', attemptId).equals(hash)).toBe(true);
    });

    it('differs per attempt id for the same PIN', () => {
      const pins = pinService();
      expect(pins.hash('123456', attemptId).equals(pins.hash('123456', randomUUID()))).toBe(false);
    });

    it('differs per PIN', () => {
      const pins = pinService();
      expect(pins.hash('123456', attemptId).equals(pins.hash('123457', attemptId))).toBe(false);
    });

    it('differs per key (two JWT_SECRETs)', () => {
      const a = pinService({}, SECRET);
      const b = pinService({}, 'another-secret-for-the-pin-hmac-key-0987');
      expect(a.hash('123456', attemptId).equals(b.hash('123456', attemptId))).toBe(false);
    });

    it('is not a plain SHA-256 of the PIN (keyed)', () => {
      const pins = pinService();
      const plain = createHash('sha256').update(`${attemptId}:123456`).digest();
      expect(pins.hash('123456', attemptId).equals(plain)).toBe(false);
    });
  });

  describe('matches', () => {
    const attemptId = randomUUID();

    it('is true for the PIN that was hashed for this attempt', () => {
      const pins = pinService();
      expect(pins.matches('042917', attemptId, pins.hash('042917', attemptId))).toBe(true);
    });

    it('is false for another PIN', () => {
      const pins = pinService();
      const stored = pins.hash('042917', attemptId);
      expect(pins.matches('042918', attemptId, stored)).toBe(false);
      expect(pins.matches('42917', attemptId, stored)).toBe(false);
      expect(pins.matches('', attemptId, stored)).toBe(false);
    });

    it('is false for the hash of another attempt', () => {
      const pins = pinService();
      expect(pins.matches('042917', attemptId, pins.hash('042917', randomUUID()))).toBe(false);
    });

    it('is false (and does not throw) for a stored hash of the wrong length', () => {
      const pins = pinService();
      const stored = pins.hash('042917', attemptId);
      expect(pins.matches('042917', attemptId, stored.subarray(0, 31))).toBe(false);
      expect(pins.matches('042917', attemptId, Buffer.concat([stored, Buffer.alloc(1)]))).toBe(false);
      expect(pins.matches('042917', attemptId, Buffer.alloc(0))).toBe(false);
    });

    it('is false under another key', () => {
      const stored = pinService({}, SECRET).hash('042917', attemptId);
      const other = pinService({}, 'another-secret-for-the-pin-hmac-key-0987');
      expect(other.matches('042917', attemptId, stored)).toBe(false);
    });
  });

  describe('message', () => {
    it('states the code and the expiry in minutes', () => {
      expect(pinService().message('123456')).toBe(
        'XOXZO: your verification code is 123456. It expires in 5 minutes. Do not share it.',
      );
    });

    it('uses the singular for one minute', () => {
      expect(pinService({ PIN_TTL_SECONDS: '60', SMS_BRAND: 'ACME' }).message('1234')).toBe(
        'ACME: your verification code is 1234. It expires in 1 minute. Do not share it.',
      );
    });

    it('is ASCII and fits one 160-character SMS for the longest PIN and TTL', () => {
      const text = pinService({ PIN_LENGTH: '8', PIN_TTL_SECONDS: '600' }).message('99999999');
      expect(text).toBe(
        'XOXZO: your verification code is 99999999. It expires in 10 minutes. Do not share it.',
      );
      expect(text).toMatch(/^[\x20-\x7e]+$/);
      expect(text.length).toBeLessThanOrEqual(160);
    });
  });
});

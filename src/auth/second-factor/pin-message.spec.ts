import { describe, expect, it } from '@jest/globals';
import { PIN_SMS_LOCALES, pinSmsLocale, renderPinSms, segments } from './pin-message.js';

const LONGEST_PIN = '12345678';
const LONGEST_MINUTES = 10;
const brand = 'XOXZO';
/** 35 characters: the longest origin domain the one-segment promise covers with the default brand. */
const LONG_DOMAIN = 'a'.repeat(19) + '.example-app.com';

describe('renderPinSms', () => {
  it('has a 35-character domain in the worst case', () => {
    expect(LONG_DOMAIN).toHaveLength(35);
  });

  it('English: the exact text, plural and singular; it names the service and says not to share the code', () => {
    expect(renderPinSms({ pin: '123456', minutes: 5, locale: 'en', brand })).toBe(
      'XOXZO: your verification code is 123456. It expires in 5 minutes. Do not share it.',
    );
    expect(renderPinSms({ pin: '123456', minutes: 1, locale: 'en', brand: 'ACME' })).toBe(
      'ACME: your verification code is 123456. It expires in 1 minute. Do not share it.',
    );
  });

  it('Japanese', () => {
    expect(renderPinSms({ pin: '123456', minutes: 5, locale: 'ja', brand })).toBe(
      '【XOXZO】認証コード: 123456（5分間有効）。誰にも教えないでください。',
    );
  });

  it.each([undefined, '', 'fr', 'xx-YY', 'english'])('locale %p falls back to English', (locale) => {
    expect(renderPinSms({ pin: '1234', minutes: 5, locale, brand })).toBe(
      'XOXZO: your verification code is 1234. It expires in 5 minutes. Do not share it.',
    );
  });

  it.each([
    ['ja-JP', 'ja'],
    ['JA', 'ja'],
    ['en_GB', 'en'],
    ['en-US', 'en'],
  ])('locale %s is read as %s', (locale, expected) => {
    expect(pinSmsLocale(locale)).toBe(expected);
  });

  it('with an origin domain, ends with a new line and the WebOTP line', () => {
    const text = renderPinSms({
      pin: '123456',
      minutes: 5,
      locale: 'en',
      brand,
      originDomain: 'app.example.com',
    });
    expect(text).toBe(
      'XOXZO: your verification code is 123456. It expires in 5 minutes. Do not share it.\n@app.example.com #123456',
    );
    const ja = renderPinSms({
      pin: '123456',
      minutes: 5,
      locale: 'ja',
      brand,
      originDomain: 'app.example.com',
    });
    expect(ja).toBe(
      '【XOXZO】認証コード: 123456（5分間有効）。誰にも教えないでください。\n@app.example.com #123456',
    );
  });

  it('every text names the service and says not to share the code, in every wording', () => {
    for (const originDomain of [undefined, LONG_DOMAIN]) {
      const en = renderPinSms({ pin: LONGEST_PIN, minutes: 10, locale: 'en', brand: 'ACME', originDomain });
      expect(en).toMatch(/^ACME\b.*Do not share it\./);
      const ja = renderPinSms({ pin: LONGEST_PIN, minutes: 10, locale: 'ja', brand: 'ACME', originDomain });
      expect(ja).toMatch(/ACME/);
      expect(ja).toMatch(/誰にも教えないでください|共有禁止/);
    }
  });

  it('the compact wording (a non-ASCII brand makes English UCS-2) still names the service and says not to share the code', () => {
    for (const originDomain of [undefined, 'ex.jp']) {
      const text = renderPinSms({
        pin: LONGEST_PIN,
        minutes: 10,
        locale: 'en',
        brand: 'ゾクゾ銀行',
        originDomain,
      });
      expect(text).not.toContain('your verification code'); // the compact wording was used
      expect(segments(text)).toBe(1);
      expect(text.startsWith('ゾクゾ銀行')).toBe(true);
      expect(text.split('\n')[0]).toMatch(/Do not share it\./);
    }
  });

  it('every text carries the PIN in its first line', () => {
    for (const locale of PIN_SMS_LOCALES) {
      for (const originDomain of [undefined, LONG_DOMAIN]) {
        const text = renderPinSms({ pin: LONGEST_PIN, minutes: 3, locale, brand, originDomain });
        expect(text.split('\n')[0]).toContain(LONGEST_PIN);
      }
    }
  });

  describe.each(PIN_SMS_LOCALES)('%s fits one SMS segment at the longest PIN and lifetime', (locale) => {
    it('without a domain', () => {
      const text = renderPinSms({ pin: LONGEST_PIN, minutes: LONGEST_MINUTES, locale, brand });
      expect(segments(text)).toBe(1);
    });

    it('with a 35-character domain, the WebOTP line still last', () => {
      const text = renderPinSms({
        pin: LONGEST_PIN,
        minutes: LONGEST_MINUTES,
        locale,
        brand,
        originDomain: LONG_DOMAIN,
      });
      expect(segments(text)).toBe(1);
      expect(text.split('\n').at(-1)).toBe(`@${LONG_DOMAIN} #${LONGEST_PIN}`);
      // The lifetime is still stated (in the compact wording if the full one would not fit).
      expect(text.split('\n')[0]).toContain(String(LONGEST_MINUTES));
    });
  });
});

describe('segments', () => {
  it.each([
    ['empty', '', 0],
    ['1 ASCII', 'a', 1],
    ['160 ASCII', 'a'.repeat(160), 1],
    ['161 ASCII', 'a'.repeat(161), 2],
    ['306 ASCII', 'a'.repeat(306), 2],
    ['307 ASCII', 'a'.repeat(307), 3],
    ['70 kanji', '認'.repeat(70), 1],
    ['71 kanji', '認'.repeat(71), 2],
    ['134 kanji', '認'.repeat(134), 2],
    ['135 kanji', '認'.repeat(135), 3],
    // One non-ASCII character makes the whole text UCS-2.
    ['69 ASCII + é', 'a'.repeat(69) + 'é', 1],
    ['70 ASCII + é', 'a'.repeat(70) + 'é', 2],
    ['159 ASCII + new line', 'a'.repeat(159) + '\n', 1],
    // An emoji is two UTF-16 units.
    ['35 emoji', '😀'.repeat(35), 1],
    ['36 emoji', '😀'.repeat(36), 2],
  ])('%s → %i', (_label, text, expected) => {
    expect(segments(text)).toBe(expected);
  });
});

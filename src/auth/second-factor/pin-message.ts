/**
 * The PIN SMS text, per language. Pure functions: Auth renders the text, the SMS module only delivers it.
 *
 * Every text names the service (`SMS_BRAND`), says not to share the code, and fits one SMS segment in the
 * worst case (8-digit PIN, 10 minutes, the configured brand and WebOTP domain; checked at boot by
 * `pin.config.ts`). Where the full wording would not fit, a compact one is used.
 */

/** Languages with their own PIN text; anything else gets English. */
export const PIN_SMS_LOCALES = ['en', 'ja'] as const;
export type PinSmsLocale = (typeof PIN_SMS_LOCALES)[number];

export interface PinSmsInput {
  pin: string;
  /** How long the PIN stays valid, in whole minutes. */
  minutes: number;
  /** `en`, `ja`, `ja-JP`, ... (unknown or absent → `en`). */
  locale?: string;
  /** `SMS_BRAND`: the service the code is for, named first so the user knows who is asking. */
  brand: string;
  /** `APP_ORIGIN_DOMAIN`: adds the WebOTP line `@<domain> #<pin>` so browsers can offer to fill the PIN in. */
  originDomain?: string;
}

interface PinTexts {
  full: (brand: string, pin: string, minutes: number) => string;
  /** Shorter wording, for when the full one plus the WebOTP line would take two segments. */
  compact: (brand: string, pin: string, minutes: number) => string;
}

const TEXTS: Record<PinSmsLocale, PinTexts> = {
  en: {
    full: (brand, pin, minutes) =>
      `${brand}: your verification code is ${pin}. It expires in ${minutes} minute${minutes === 1 ? '' : 's'}. Do not share it.`,
    compact: (brand, pin, minutes) => `${brand} code ${pin} (${minutes} min). Do not share it.`,
  },
  ja: {
    full: (brand, pin, minutes) =>
      `【${brand}】認証コード: ${pin}（${minutes}分間有効）。誰にも教えないでください。`,
    compact: (brand, pin, minutes) => `${brand} ${pin}（${minutes}分）共有禁止`,
  },
};

/** `ja-JP` → `ja`; unknown → `en`. */
export function pinSmsLocale(locale: string | undefined): PinSmsLocale {
  const language = locale?.trim().toLowerCase().split(/[-_]/)[0];
  return PIN_SMS_LOCALES.find((l) => l === language) ?? 'en';
}

export function renderPinSms({ pin, minutes, locale, brand, originDomain }: PinSmsInput): string {
  const texts = TEXTS[pinSmsLocale(locale)];
  const full = texts.full(brand, pin, minutes);
  if (!originDomain) return segments(full) === 1 ? full : texts.compact(brand, pin, minutes);
  const webOtp = `\n@${originDomain} #${pin}`;
  return segments(full + webOtp) === 1 ? full + webOtp : texts.compact(brand, pin, minutes) + webOtp;
}

/** One SMS holds 160 characters when the text is all ASCII (GSM-7), 70 (UCS-2) when any character is not. */
export const SEGMENT_LIMITS = {
  ascii: { single: 160, multipart: 153 },
  unicode: { single: 70, multipart: 67 },
} as const;

/**
 * How many SMS segments a text takes: all ASCII → 160 characters in one segment (153 per part when
 * concatenated); any other character makes the whole text UCS-2 → 70 (67 per part), counted in UTF-16 units
 * (an emoji takes two). An empty text takes none.
 */
export function segments(text: string): number {
  if (text.length === 0) return 0;
  // eslint-disable-next-line no-control-regex
  const limits = /^[\x00-\x7f]*$/.test(text) ? SEGMENT_LIMITS.ascii : SEGMENT_LIMITS.unicode;
  return text.length <= limits.single ? 1 : Math.ceil(text.length / limits.multipart);
}

/**
 * The supported PIN-SMS locale a browser or app asks for in `Accept-Language` (`ja-JP,ja;q=0.9,en;q=0.8`),
 * honouring q-values; `en` when none is supported.
 */
export function localeFromAcceptLanguage(header: string | undefined): PinSmsLocale {
  const ranked = (header ?? '')
    .slice(0, 512)
    .split(',')
    .map((part, index) => {
      const [tag, ...params] = part.trim().split(';');
      const q = Number(
        params
          .find((p) => p.trim().startsWith('q='))
          ?.trim()
          .slice(2) ?? '1',
      );
      return { language: tag.trim().toLowerCase().split(/[-_]/)[0], q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return PIN_SMS_LOCALES.find((l) => l === ranked.find((r) => isPinSmsLocale(r.language))?.language) ?? 'en';
}

function isPinSmsLocale(language: string): language is PinSmsLocale {
  return (PIN_SMS_LOCALES as readonly string[]).includes(language);
}

import fc from 'fast-check';

/**
 * fast-check generators of raw JSON text (not values), so that `__proto__` keys, lone surrogates, duplicate
 * keys, deep nesting and broken JSON reach the server as written.
 */

/** Pieces of JSON string content (already escaped as JSON text) that are hard on validators and storage. */
const oddFragment = fc.constantFrom(
  '\\u0000',
  '\\u0007',
  '\\u001b',
  '\\u007f',
  '\\ud800', // lone high surrogate
  '\\udfff', // lone low surrogate
  '\\udbff\\udfff',
  '\\ud83d',
  '\\u200f', // RTL mark
  '\\u202e', // RTL override
  '\\u200d', // zero-width joiner
  '\\u200b', // zero-width space
  '\\ufeff',
  '\\u2028',
  '\\u00a0',
  '\\u0301', // combining acute
  '\\t',
  '\\n',
  '\\r',
  '\\\\',
  '\\"',
  '\\/',
  '１２３４５６', // full-width digits
  '٠١٢٣٤٥', // Arabic-Indic digits
  '👩‍💻',
  '🙂',
  'İ',
  'ß',
  'ﬀ',
  '@',
  '.',
  ' ',
  '+',
  '%00',
  '<script>',
  "' OR 1=1 --",
  '${jndi:x}',
);
/** A raw control character: not allowed unescaped inside a JSON string (the body is then not JSON). */
const rawControl = fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c));
/** Any code points (lone surrogates included), escaped the way JSON.stringify does. */
const plainFragment = fc.string({ unit: 'binary', maxLength: 8 }).map((s) => JSON.stringify(s).slice(1, -1));
const fragment = fc.oneof(
  { weight: 4, arbitrary: oddFragment },
  { weight: 3, arbitrary: plainFragment },
  { weight: 1, arbitrary: rawControl },
);

export const oddString = fc.array(fragment, { maxLength: 10 }).map((parts) => `"${parts.join('')}"`);

/** A plausible value with odd fragments spliced in (`"12３456"`, `"user\u200d@example.com"`, ...). */
export function spliced(sample: string): fc.Arbitrary<string> {
  return fc.array(fc.tuple(fc.nat(sample.length), fragment), { minLength: 1, maxLength: 3 }).map((edits) => {
    let text = sample;
    for (const [at, piece] of edits) {
      const i = Math.min(at, text.length);
      text = text.slice(0, i) + piece + text.slice(i);
    }
    return `"${text}"`;
  });
}

/** Strings from 200 bytes to ~20 KB (over the 16 KiB body limit at the top end). */
export const hugeString = fc
  .tuple(
    fc.integer({ min: 200, max: 20_000 }),
    fc.constantFrom('a', 'é', '漢', '🙂', '\\u0000', ' ', '7', '\\ud800'),
  )
  .map(([bytes, unit]) => `"${unit.repeat(Math.max(1, Math.floor(bytes / Buffer.byteLength(unit))))}"`);

/** Arrays/objects nested 50 to ~9000 deep, as raw text (may exceed the body limit). */
export const deepValue = fc
  .tuple(
    fc.integer({ min: 50, max: 9000 }),
    fc.constantFrom('array', 'object', 'mixed'),
    fc.constantFrom('1', '"x"', 'null', '{}', '[]'),
  )
  .map(([depth, kind, leaf]) => {
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < depth; i += 1) {
      const asArray = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
      open.push(asArray ? '[' : '{"a":');
      close.push(asArray ? ']' : '}');
    }
    return open.join('') + leaf + close.reverse().join('');
  });

/** Anything but a string: numbers of every shape, booleans, null, arrays, objects, operator objects. */
export const wrongType = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom(
    '1e999',
    '-0',
    '123456',
    '0.1e-400',
    '123456789012345678901234567890',
    'true',
    'false',
    'null',
    '[]',
    '{}',
    '[""]',
    '["123456"]',
    '{"$gt":""}',
    '{"$ne":null}',
    '{"value":"x"}',
    '{"length":1e9}',
    '{"toString":"x"}',
  ),
  fc
    .jsonValue({ maxDepth: 3 })
    .filter((v) => typeof v !== 'string')
    .map((v) => JSON.stringify(v)),
);

/** Whatever a value can be. */
export const anyValue = fc.oneof(
  { weight: 3, arbitrary: wrongType },
  { weight: 3, arbitrary: oddString },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deepValue },
);

/** Keys nobody declared, including the prototype-pollution ones (escaped forms too). */
export const unknownKey = fc.oneof(
  fc.constantFrom(
    '"__proto__"',
    '"\\u005f\\u005fproto\\u005f\\u005f"',
    '"constructor"',
    '"prototype"',
    '"isAdmin"',
    '"role"',
    '"id"',
    '"userId"',
    '"phoneVerified"',
    '"Email"',
    '"email "',
    '"pin\\u200b"',
    '""',
    '"__defineGetter__"',
    '"hasOwnProperty"',
    '"toString"',
  ),
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => JSON.stringify(s)),
);

/** Values that try to pollute a prototype, whatever key carries them. */
export const pollutingValue = fc.constantFrom(
  '{"polluted":1}',
  '{"prototype":{"polluted":1}}',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
);

export const ws = fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n  ');

/** The top-level bodies that are not objects, or not JSON at all. */
export const oddTopLevel = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 60 }),
  fc.constantFrom(
    '',
    ' ',
    'null',
    '[]',
    '{}',
    '"x"',
    '0',
    'true',
    '{',
    '}',
    '{"a":1,}',
    '\ufeff{}',
    "{'email':'a'}",
    'NaN',
    '[1,2',
    '{"email":"a"}garbage',
    '{}{}',
    '{"a":1}\n\n',
    ' {} ',
    '[{}]',
    '[null]',
    '"\\ud800"',
    '{"email":"\u0000"}',
    '{"\\ud800":1}',
    '/* */{}',
    '{"a":1e999}',
  ),
  deepValue,
);

import { describe, expect, it } from 'vitest';
import { FatalError } from '../../src/errors.js';
import {
  MAX_PATH_LENGTH,
  accountFolderName,
  fitsPath,
  periodFolderSegments,
  receiptFileName,
  sanitizeSegment,
  type ReceiptNaming,
} from '../../src/sync/naming.js';
import { periodOf } from '../../src/sync/periods.js';

/**
 * OneDrive's naming rules, written independently from docs/contracts-graph.md, Names OneDrive accepts (plus our stricter
 * choices: no leading '~', NFC, at most 255 UTF-16 units per name). Returns the broken rules.
 */
function brokenRules(name: string): string[] {
  const broken: string[] = [];
  const rule = (ok: boolean, what: string) => ok || broken.push(what);
  rule(name.length > 0, 'empty');
  rule(name.length <= 255, 'longer than 255');
  rule(!/["*:<>?/\\|]/.test(name), 'forbidden character');
  rule(!/\p{Cc}/u.test(name), 'control character'); // U+0000-001F and U+007F-009F
  rule(!/^\s/.test(name) && !/\s$/.test(name), 'leading or trailing whitespace');
  rule(!name.endsWith('.'), 'trailing dot');
  rule(!/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\s*\..*)?$/i.test(name), 'reserved device name');
  rule(!['.lock', 'desktop.ini'].includes(name.toLowerCase()), 'reserved name');
  rule(!name.startsWith('~'), 'leading ~ (~$ is an Office lock file)');
  rule(!name.toLowerCase().includes('_vti_'), '_vti_');
  rule(!/&#(x[0-9a-f]+|[0-9]+);?/i.test(name), 'HTML character code');
  rule(!/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name), 'lone surrogate');
  rule(name === name.normalize('NFC'), 'not NFC');
  return broken;
}
const expectValid = (name: string) => expect(brokenRules(name), JSON.stringify(name)).toEqual([]);

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemesOf = (s: string) => [...segmenter.segment(s)].map((g) => g.segment);

const FAMILY = '👨‍👩‍👧‍👦'; // one grapheme, 11 UTF-16 units (ZWJ sequence)
const FLAG = '🇫🇷'; // one grapheme, two regional indicators
const HOSTILE = [
  '../../x', 'CON', 'con.txt', 'Con .txt', 'LPT1', 'com9.tar.gz', 'nul', 'AUX.', 'a:b?.pdf', '  .hidden. ', '.lock',
  'desktop.ini', 'DESKTOP.INI ', '~$tmp', '~tmp', ' ~$x', 'x_vti_y', '_VTI_', '_vt_vti_i_', '', '   ', '.', '...', '. . .',
  'a\nb', 'line\r\nbreak\ttab', '\u0000\u0007\u001b', 'x&#123;y', '&#x41;&#65', '&#&#12;12;', '&#12\u037E', 'des\u212Atop.ini',
  'a<b>c|d"e*f\\g/h', 'emoji 🧾 receipt', `${FAMILY} family`, `${FLAG}${FLAG} flags`, '\uD83D', 'x\uDC00y',
  'e\u0301cole', 'gpj.\u202Eexe', 'x'.repeat(300), FAMILY.repeat(300), FLAG.repeat(300), '\u2028\u2029', 'trailing.  . ',
  // Cutting these to length leaves a trailing dot or space that must go too.
  `${'x'.repeat(253)}. ${'y'.repeat(20)}`, `${'a'.repeat(58)}. tail`, `CON ${'x'.repeat(300)}`,
];

// A small deterministic generator for property-style checks.
function* randomNames(count: number, seed = 42): Generator<string> {
  const alphabet = [
    'a', 'Z', '0', ' ', '.', '~', '$', '_', 'v', 't', 'i', '&', '#', ';', '1', 'x', '\n', '\t', '\u0000', ':', '?', '*', '"',
    '<', '>', '|', '/', '\\', 'é', 'e\u0301', FAMILY, FLAG, '\u200D', '\uD83D', '\uDC4D', 'CON', 'lpt', '\u037E', '\u212A',
    '\u202E', '\u00A0', 'desktop.ini', '.lock',
  ];
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  for (let n = 0; n < count; n++) {
    let name = '';
    const length = Math.floor(random() * 40);
    for (let i = 0; i < length; i++) name += alphabet[Math.floor(random() * alphabet.length)];
    yield name;
  }
}

describe('sanitizeSegment', () => {
  it.each(HOSTILE)('%j becomes a valid OneDrive name', (input) => {
    const out = sanitizeSegment(input, 'fallback');
    expectValid(out);
    expect(sanitizeSegment(out, 'fallback')).toBe(out); // already clean names stay as they are
  });

  it('keeps ordinary names as they are', () => {
    for (const name of ['Main account', 'Amazon EU', 'Café Müller GmbH & Co. KG', 'Invoice 2026-03.pdf', '50% off', '東京']) {
      expect(sanitizeSegment(name, 'x')).toBe(name);
    }
  });

  it.each([
    ['../../x', '-..-x'],
    ['CON', '_CON'],
    ['con.txt', '_con.txt'],
    ['a:b?.pdf', 'a-b_.pdf'],
    ['  .hidden. ', 'hidden'],
    ['~$tmp', '_$tmp'],
    ['x_vti_y', 'x-vti_y'],
    ['a\nb\tc', 'a b c'],
    ['x&#123;y', 'xy'],
    ['desktop.ini', '_desktop.ini'],
    ['.lock', 'lock'],
    ['Say "hi"', "Say 'hi'"],
    ['e\u0301cole', '\u00e9cole'],
    ['\uD83D!', '\uFFFD!'],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeSegment(input, 'fallback')).toBe(expected);
  });

  it.each(['', '   ', '...', '. . .', '\n\t', '&#1;'])('%j falls back', (input) => {
    expect(sanitizeSegment(input, 'Unnamed')).toBe('Unnamed');
  });

  it('never returns an empty or invalid name, even with a hostile fallback', () => {
    expect(sanitizeSegment('...', 'CON')).toBe('_CON');
    expect(sanitizeSegment('...', '')).toBe('_');
  });

  it('caps a name at 255 UTF-16 units without splitting graphemes', () => {
    for (const input of ['x'.repeat(300), FAMILY.repeat(300), FLAG.repeat(300)]) {
      const out = sanitizeSegment(input, 'f');
      expect(out.length).toBeLessThanOrEqual(255);
      const unit = graphemesOf(input)[0]!;
      expect(graphemesOf(out).every((g) => g === unit), JSON.stringify(out.slice(-12))).toBe(true);
    }
  });

  it('keeps every output valid and stable over 3,000 random hostile names', () => {
    for (const input of randomNames(3000)) {
      const out = sanitizeSegment(input, 'fallback');
      expect(brokenRules(out), JSON.stringify(input)).toEqual([]);
      expect(sanitizeSegment(out, 'fallback')).toBe(out);
    }
  });
});

const base: ReceiptNaming = {
  attachmentId: 'a1b2c3d4-e5f6-4711-8899-aabbccddeeff',
  fileName: 'Foobar',
  contentType: 'application/pdf',
  emittedAt: '2026-03-14T10:22:11.000Z',
  timeZone: 'Europe/Paris',
  counterparty: 'Amazon EU',
  amount: 52.4,
  currency: 'EUR',
  side: 'debit',
};
const nameOf = (over: Partial<ReceiptNaming>, idLength?: number) => receiptFileName({ ...base, ...over }, idLength);

describe('receiptFileName', () => {
  it('is date, counterparty, signed amount, currency, short id and extension', () => {
    expect(nameOf({})).toBe('2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf');
    expect(nameOf({ side: 'credit', amount: 1200 })).toBe('2026-03-14 Amazon EU 1200.00 EUR a1b2c3d4.pdf');
  });

  it('is deterministic', () => {
    const names = new Set(Array.from({ length: 5 }, () => nameOf({ counterparty: `${FAMILY} ~$weird: name\n` })));
    expect(names.size).toBe(1);
  });

  it('dates the receipt on the wall clock of the zone, like its period folder', () => {
    const emittedAt = '2026-03-31T22:30:00Z';
    expect(nameOf({ emittedAt, timeZone: 'Europe/Paris' })).toMatch(/^2026-04-01 /);
    expect(nameOf({ emittedAt, timeZone: 'America/New_York' })).toMatch(/^2026-03-31 /);
    expect(periodFolderSegments(periodOf(emittedAt, 'Europe/Paris'))).toEqual(['2026', '2026-04']);
  });

  it.each([
    [52.4, 'debit', '-52.40'],
    [52.4, 'credit', '52.40'],
    [52.4, 'DEBIT', '-52.40'],
    [1.005, 'debit', '-1.01'],
    [0.1 + 0.2, 'credit', '0.30'],
    [1234567.891, 'credit', '1234567.89'],
    [0.004, 'debit', '0.00'],
    [0, 'debit', '0.00'],
    [-52.4, 'debit', '-52.40'],
    [99999999999.99, 'credit', '99999999999.99'],
  ])('formats %d (%s) as %s', (amount, side, expected) => {
    expect(nameOf({ amount, side })).toBe(`2026-03-14 Amazon EU ${expected} EUR a1b2c3d4.pdf`);
  });

  it('refuses amounts that are not finite or absurdly large', () => {
    for (const amount of [Number.NaN, Number.POSITIVE_INFINITY, 1e20]) {
      expect(() => nameOf({ amount })).toThrow(FatalError);
    }
  });

  it('leaves out an empty counterparty and normalises the currency', () => {
    for (const counterparty of [null, undefined, '', '  ', '...', '\n']) {
      expect(nameOf({ counterparty })).toBe('2026-03-14 -52.40 EUR a1b2c3d4.pdf');
    }
    expect(nameOf({ currency: 'usd' })).toBe('2026-03-14 Amazon EU -52.40 USD a1b2c3d4.pdf');
    expect(nameOf({ currency: 'E/U:R' })).toBe('2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf');
  });

  it.each([
    ['Foobar', 'application/pdf', 'pdf'],
    ['scan.JPEG', 'image/png', 'jpeg'],
    ['IMG_0001.HEIC', 'image/heic', 'heic'],
    ['invoice.pdf ', 'application/octet-stream', 'pdf'],
    ['x.exe', 'image/png', 'png'],
    ['x.pdf.exe', 'Application/PDF; charset=binary', 'pdf'],
    ['archive.tar.gz', 'application/gzip', 'bin'],
    ['noext', '', 'bin'],
    ['mail', 'message/rfc822', 'eml'],
    ['report', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'],
    ['letter', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'],
    ['photo', 'image/jpeg', 'jpg'],
    ['scan.tif', 'image/tiff', 'tif'],
    ['data.CSV', 'text/plain', 'csv'],
    ['x.', 'image/webp', 'webp'],
    ['.pdf', 'text/plain', 'pdf'],
  ])('file %j of type %j gets .%s', (fileName, contentType, ext) => {
    expect(nameOf({ fileName, contentType })).toBe(`2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.${ext}`);
  });

  it('gives the attachments of one transaction distinct names, also case-insensitively', () => {
    const ids = ['a1b2c3d4-0000-4000-8000-000000000001', 'f0e1d2c3-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000003'];
    const names = ids.map((attachmentId) => nameOf({ attachmentId }).toLowerCase());
    expect(new Set(names).size).toBe(ids.length);
  });

  it('uses the full id when short ids clash case-insensitively', () => {
    const ids = ['ABCDEF12-0000-4000-8000-000000000001', 'abcdef12-0000-4000-8000-000000000002'];
    const short = ids.map((attachmentId) => nameOf({ attachmentId }).toLowerCase());
    expect(short[0]).toBe(short[1]);
    const full = ids.map((attachmentId) => nameOf({ attachmentId }, attachmentId.length));
    expect(full[0]).toBe('2026-03-14 Amazon EU -52.40 EUR ABCDEF12-0000-4000-8000-000000000001.pdf');
    expect(full[0]!.toLowerCase()).not.toBe(full[1]!.toLowerCase());
    expect(nameOf({}, 4)).toBe('2026-03-14 Amazon EU -52.40 EUR a1b2.pdf');
  });

  it('refuses attachment ids that are not ids, and bad id lengths', () => {
    for (const attachmentId of ['', '../etc', 'a b', 'x'.repeat(65), 'a_vti_b']) {
      expect(() => nameOf({ attachmentId })).toThrow(FatalError);
    }
    expect(() => nameOf({}, 0)).toThrow(RangeError);
    expect(() => nameOf({}, 2.5)).toThrow(RangeError);
  });

  it.each(HOSTILE)('a hostile counterparty %j still gives a valid name', (counterparty) => {
    const name = nameOf({ counterparty });
    expectValid(name);
    expect(name).toMatch(/^2026-03-14 (\S.*\S |\S |)-52\.40 EUR a1b2c3d4\.pdf$/);
  });

  it('cuts a long counterparty between graphemes: no broken emoji or flag', () => {
    for (const unit of [FAMILY, FLAG, 'x', '𝒜', 'e\u0301']) {
      const name = nameOf({ counterparty: unit.repeat(300) });
      const counterparty = name.slice('2026-03-14 '.length, -' -52.40 EUR a1b2c3d4.pdf'.length);
      const whole = unit.normalize('NFC');
      expect(counterparty.length).toBeGreaterThan(0);
      expect(counterparty.split(whole).join(''), JSON.stringify(counterparty)).toBe('');
      expect(graphemesOf(counterparty).length).toBeLessThanOrEqual(60);
    }
  });
});

describe('folders', () => {
  it('names an account folder after the account and the end of its IBAN', () => {
    expect(accountFolderName({ name: 'Main account', iban: 'FR76 3000 6000 0112 3456 7890 189' })).toBe('Main account (0189)');
    expect(accountFolderName({ name: 'Savings', iban: 'de89370400440532013000' })).toBe('Savings (3000)');
    expect(accountFolderName({ name: 'Main account', iban: null })).toBe('Main account');
    expect(accountFolderName({ name: '  ', iban: 'FR7630006000011234567890189' })).toBe('Account (0189)');
    expect(accountFolderName({ name: 'CON', iban: undefined })).toBe('_CON');
    expect(accountFolderName({ name: 'A/B: Ops?', iban: 'FR76…1234' })).toBe('A-B- Ops_ (1234)');
  });

  it.each(HOSTILE)('a hostile account name %j gives a valid folder', (name) => {
    expectValid(accountFolderName({ name, iban: 'FR7630006000011234567890189' }));
    expectValid(accountFolderName({ name, iban: null }));
  });

  it('gives period segments and refuses malformed periods', () => {
    expect(periodFolderSegments({ year: '2026', month: '2026-03' })).toEqual(['2026', '2026-03']);
    expect(() => periodFolderSegments({ year: '2026', month: '2025-03' })).toThrow(RangeError);
    expect(() => periodFolderSegments({ year: '2026', month: '2026-13' })).toThrow(RangeError);
    expect(() => periodFolderSegments({ year: '../x', month: '../x-01' })).toThrow(RangeError);
  });
});

describe('path length', () => {
  it('fitsPath counts the prefix, the separators and UTF-16 units', () => {
    expect(MAX_PATH_LENGTH).toBe(400);
    expect(fitsPath(['a'.repeat(399)])).toBe(true);
    expect(fitsPath(['a'.repeat(400)])).toBe(false);
    expect(fitsPath(['a'.repeat(394)], 'Apps')).toBe(true); // 'Apps/' + 394 = 399
    expect(fitsPath(['a'.repeat(395)], 'Apps/')).toBe(false);
    expect(fitsPath(['x', FAMILY.repeat(36)], 'Apps/Qonto Receipts')).toBe(false); // 20 + 2 + 396 units
  });

  it('keeps Apps/<60-char app>/<account>/<YYYY>/<YYYY-MM>/<file> under 400 with 300-character inputs', () => {
    const app = 'Q'.repeat(60);
    const longest = [
      'x'.repeat(300), FAMILY.repeat(300), FLAG.repeat(300), '𝒜'.repeat(300), `${'a'.repeat(59)}${FAMILY.repeat(241)}`,
      '~$CON' + '.'.repeat(295), 'é'.repeat(300),
    ];
    let worst = 0;
    for (const accountName of longest) {
      for (const counterparty of longest) {
        const account = accountFolderName({ name: accountName, iban: 'FR7630006000011234567890189' });
        const period = periodFolderSegments(periodOf('2026-12-31T23:30:00Z', 'Europe/Paris'));
        const file = receiptFileName({
          ...base,
          attachmentId: 'f'.repeat(64),
          fileName: 'x'.repeat(300),
          contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
          counterparty,
          amount: 90_071_992_547_409.91,
          currency: 'ABCDEFGHIJKLMNOP',
        }, 64);
        const segments = [account, ...period, file];
        for (const segment of segments) expectValid(segment);
        const path = ['Apps', app, ...segments].join('/');
        expect(path.length, path).toBeLessThan(400);
        expect(fitsPath(segments, `Apps/${app}`)).toBe(true);
        worst = Math.max(worst, path.length);
      }
    }
    expect(worst).toBeGreaterThan(300); // the inputs really were long
  });
});

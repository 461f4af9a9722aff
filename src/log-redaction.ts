/**
 * What a log line may not carry: credentials, and the personal data of a bank customer (e-mail
 * addresses and usernames, receipt file names, account and folder names, IBANs, amounts). Pure
 * functions, applied by the one logger (src/logger.ts) to every message and field, and by the
 * request log to URLs. Redaction is by field name where the name says what the value is, and by
 * pattern inside free text (error messages), erring on the side of hiding too much.
 */

export const REDACTED = '[redacted]';

/** Field or query parameter names whose values are credentials. */
const SECRET_NAME = /token|secret|password|passwd|authorization|cookie|assertion|credential|api[-_]?key|^code$/i;
/** In a URL, OAuth's `state` is a credential too (elsewhere `state` names a worker's or run's state). */
const SECRET_QUERY_NAME = /^(state|session_state)$/i;

/** Field or query parameter names whose values are personal data, whatever they look like. */
const PERSONAL_NAME =
  /e-?mail|user-?name|^user$|^login|login_hint|^connected$|^name$|file-?name|display-?name|account-?name|folder-?name|^folder$|counterparty|^label$|iban|^bic$|amount|^note$|^reference$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function isPersonalName(name: string): boolean {
  return PERSONAL_NAME.test(name);
}

/** Replacements inside free text, most specific first (a file name holds an amount, a path holds a file name). */
const TEXT_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // Graph path addressing `…:/Main account (1234)/2026/2026-03/name.pdf:` names folders and files.
  [/:\/(?!\/)[^:\s"']+(?::|$)/g, ':/[path]:'],
  // Receipt file names start with the transaction date: `2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf`.
  [/\d{4}-\d{2}-\d{2}(?: |%20|\+)[^/"\n:]*?\.[A-Za-z][A-Za-z0-9]{0,4}(?=$|[\s"':;,)\]])/g, '[file]'],
  // Any other document name.
  [/[^\s/"':]+\.(?:pdf|jpe?g|png|gif|heic|heif|tiff?|webp|bmp|txt|csv|xml|docx?|xlsx?|zip)\b/gi, '[file]'],
  // E-mail addresses, also URL-encoded.
  [/[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[email]'],
  // IBANs, compact or in groups of four.
  [/\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g, '[iban]'],
  // Amounts with a currency, either side.
  [/[-+−]?\d[\d  ,.']*(?:[.,]\d{1,2})? ?(?:EUR|USD|GBP|CHF|€|\$|£)(?![A-Za-z])/g, '[amount]'],
  [/(?:€|\$|£) ?[-+−]?\d[\d  ,.']*(?:[.,]\d{1,2})?/g, '[amount]'],
  // Folder names: `<account name> (<last four of the IBAN>)`.
  [/[^/"\n:;,(]*\(\d{4}\)/g, '[account]'],
  // Quoted names in our error messages (`cannot create folder "…"`).
  [/"[^"\n]{1,300}"/g, `"${REDACTED}"`],
];

/** Free text with every personal datum it visibly holds replaced by a placeholder. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const MAX_DEPTH = 8;

/**
 * A copy of a log record (or any value in it) that carries no credential and no personal data:
 * values of secret or personal fields replaced, every other string redacted as text, errors reduced
 * to their type, code and redacted message and stack.
 */
export function redactValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth >= MAX_DEPTH) return '[…]';
  seen.add(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      type: value.name,
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
      message: redactText(value.message),
      ...(value.stack ? { stack: redactText(value.stack) } : {}),
      ...(value.cause !== undefined ? { cause: redactValue(value.cause, depth + 1, seen) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined && v !== null && (isSecretName(key) || isPersonalName(key))) out[key] = REDACTED;
    else out[key] = redactValue(v, depth + 1, seen);
  }
  return out;
}

/**
 * The pathname plus its query, for a log line: credentials and personal values (the Microsoft
 * username in `?connected=`) replaced, every other value redacted as text.
 */
export function redactedPath(url: string): string {
  const { pathname, searchParams } = new URL(url, 'http://localhost');
  const pairs: string[] = [];
  for (const [name, value] of searchParams) {
    const shown = isSecretName(name) || SECRET_QUERY_NAME.test(name) || isPersonalName(name) ? REDACTED : encodeURIComponent(redactText(value));
    pairs.push(`${encodeURIComponent(name)}=${shown}`);
  }
  const path = redactText(pathname);
  return pairs.length === 0 ? path : `${path}?${pairs.join('&')}`;
}

import { describe, expect, it } from 'vitest';
import { redactedPath, redactText, redactValue } from '../../src/log-redaction.js';

const EMAIL = 'camille.martin@outlook.com';
const FILE = '2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf';
const IBAN = 'FR7630001007941234567890185';
const FOLDER = 'Compte principal (0185)';

describe('redactText', () => {
  it.each([
    ['an e-mail address', `signed in as ${EMAIL}`, EMAIL],
    ['a URL-encoded e-mail address', 'connected=camille.martin%40outlook.com', 'camille.martin'],
    ['a receipt file name', `${FILE}: upload failed`, 'Amazon'],
    ['an uploaded document name', 'upload facture-orange.pdf: size mismatch', 'facture-orange'],
    ['an IBAN', `account ${IBAN}`, '7630001007941234567890185'],
    ['an IBAN in groups', 'account FR76 3000 1007 9412 3456 7890 185', '3000 1007'],
    ['an amount', 'paid -52.40 EUR to them', '52.40'],
    ['an amount with a symbol', 'paid €1,250.00', '1,250'],
    ['an account folder name', `cannot list ${FOLDER}/2026`, 'Compte principal'],
    ['a Graph path', '/me/drive/items/ABC:/Compte%20principal%20(0185):/children', 'Compte%20principal'],
    ['a quoted name', 'cannot create folder "Petty cash": a file of that name is in the way', 'Petty cash'],
  ])('removes %s', (_kind, text, secret) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/\[(email|file|iban|amount|account|path|redacted)\]/);
  });

  it('leaves operator messages with URLs and ids readable', () => {
    for (const line of [
      'Open http://localhost:3000 to set up the sync.',
      'Inspect the workflows in the Temporal UI: http://localhost:8233',
      'Browse the simulated OneDrive: http://localhost:3000/sandbox/drive',
      'Backfill of integration 3f2a1c9e-0b1d-4c55-9a8e-2b7f0c1d2e3f: 12 of 40 receipts in OneDrive (2 to retry)',
    ]) expect(redactText(line)).toBe(line);
  });
});

describe('redactValue', () => {
  it('removes every kind of personal data and credential from a log record', () => {
    const error = new Error(`${FILE}: Graph 507 insufficientStorage`);
    const record = {
      integrationId: 'int-1',
      username: EMAIL,
      email: EMAIL,
      fileName: FILE,
      accountName: 'Compte principal',
      folderName: FOLDER,
      iban: IBAN,
      amount: '-52.40',
      counterparty: 'Amazon EU',
      accessToken: 'LEAK-ACCESS',
      tokens: { refresh_token: 'LEAK-REFRESH' },
      headers: { authorization: 'Bearer LEAK-BEARER', cookie: 'sid=LEAK-COOKIE' },
      run: { outcome: 'failed', error: `export of ${FILE} failed`, accounts: [{ name: 'Compte principal' }] },
      err: error,
    };
    const out = JSON.stringify(redactValue(record));
    for (const secret of [EMAIL, 'Amazon', 'Compte principal', '0185', IBAN, '52.40', 'LEAK']) expect(out).not.toContain(secret);
    expect(out).toContain('int-1');
    expect(out).toContain('insufficientStorage');
    expect(out).toContain('"outcome":"failed"');
    expect(redactValue({ state: 'RUNNING' })).toEqual({ state: 'RUNNING' });
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { id: 1 };
    a.self = a;
    expect(redactValue(a)).toEqual({ id: 1, self: '[…]' });
  });
});

describe('redactedPath', () => {
  it('removes credentials and personal data from a query', () => {
    expect(redactedPath(`http://localhost/?integration=abc&connected=${encodeURIComponent(EMAIL)}&resumed=true`)).toBe(
      '/?integration=abc&connected=[redacted]&resumed=true',
    );
    expect(redactedPath(`http://localhost/x?login_hint=${EMAIL}&note=${encodeURIComponent(IBAN)}&q=${encodeURIComponent(EMAIL)}`)).toBe(
      '/x?login_hint=[redacted]&note=[redacted]&q=%5Bemail%5D',
    );
    expect(redactedPath('http://localhost/cb?code=C&state=S&lang=fr')).toBe('/cb?code=[redacted]&state=[redacted]&lang=fr');
  });
});

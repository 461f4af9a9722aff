import { describe, expect, it } from 'vitest';
import { LOCALES, MESSAGES, localeFromHeader } from '../../src/api/pages/i18n.js';

describe('language', () => {
  it('picks the best supported language of Accept-Language by quality', () => {
    expect(localeFromHeader(undefined)).toBe('en');
    expect(localeFromHeader('de-DE,de;q=0.9,en;q=0.8')).toBe('de');
    expect(localeFromHeader('fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7')).toBe('de');
    expect(localeFromHeader('en;q=0.5, de;q=0.6')).toBe('de');
    expect(localeFromHeader('de;q=0, en')).toBe('en');
    expect(localeFromHeader('fr, it')).toBe('en');
    expect(localeFromHeader('garbage;;;q=x')).toBe('en');
  });

  it('has every message in every language, of the same kind', () => {
    const keys = Object.keys(MESSAGES.en).sort();
    for (const locale of LOCALES) {
      const messages = MESSAGES[locale] as Record<string, unknown>;
      expect(Object.keys(messages).sort()).toEqual(keys);
      for (const key of keys) {
        const value = messages[key];
        const reference = (MESSAGES.en as Record<string, unknown>)[key];
        expect(typeof value, key).toBe(typeof reference);
        if (typeof value === 'string') expect(value.trim(), key).not.toBe('');
        if (typeof value === 'object') expect(Object.keys(value as object).sort(), key).toEqual(Object.keys(reference as object).sort());
      }
    }
  });

  it('says each state differently in German than in English', () => {
    for (const [state, text] of Object.entries(MESSAGES.de.states)) expect(text, state).not.toBe(MESSAGES.en.states[state as keyof typeof MESSAGES.en.states]);
  });
});

import { describe, expect, it } from 'vitest';
import { isValidTimeZone } from '../../src/sync/schedule.js';
import { timeZoneForCountry } from '../../src/sync/timezones.js';

const FALLBACK = 'Europe/Paris';

describe('timeZoneForCountry', () => {
  it.each([
    ['FR', 'Europe/Paris'],
    ['DE', 'Europe/Berlin'],
    ['IT', 'Europe/Rome'],
    ['ES', 'Europe/Madrid'],
    ['NL', 'Europe/Amsterdam'],
    ['BE', 'Europe/Brussels'],
    ['AT', 'Europe/Vienna'],
    ['PT', 'Europe/Lisbon'],
    ['LU', 'Europe/Luxembourg'],
    ['IE', 'Europe/Dublin'],
    ['RE', 'Indian/Reunion'],
  ])('%s → %s', (code, zone) => {
    expect(timeZoneForCountry(code, 'UTC')).toBe(zone);
  });

  it('ignores case and surrounding spaces', () => {
    expect(timeZoneForCountry('de', FALLBACK)).toBe('Europe/Berlin');
    expect(timeZoneForCountry(' it ', FALLBACK)).toBe('Europe/Rome');
  });

  it.each([null, undefined, '', '  ', 'US', 'XX', 'FRA', 'toString', '__proto__', 'constructor'])('%j → fallback', (code) => {
    expect(timeZoneForCountry(code, 'America/New_York')).toBe('America/New_York');
  });

  it('knows every EU and EEA country, each with a real zone', () => {
    const eea = [
      'AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU', 'IE', 'IT', 'LT', 'LU',
      'LV', 'MT', 'NL', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK', 'IS', 'LI', 'NO', 'CH', 'GB', 'MC',
    ];
    for (const code of eea) {
      const zone = timeZoneForCountry(code, 'not-a-zone');
      expect(zone, code).not.toBe('not-a-zone');
      expect(isValidTimeZone(zone), `${code} → ${zone}`).toBe(true);
    }
  });
});

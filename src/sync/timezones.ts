/**
 * The organization's time zone from its legal country (Qonto `legal_country`, ISO 3166-1 alpha-2).
 * Qonto serves companies in France, Germany, Italy and Spain and across the EEA; each of these has
 * one civil time on its mainland. Where a country spans several zones the capital's is used (Spain →
 * Madrid, not the Canaries; Portugal → Lisbon, not the Azores); the user can override it at Finish.
 */
const ZONE_BY_COUNTRY: Readonly<Record<string, string>> = {
  // Qonto's home markets
  FR: 'Europe/Paris',
  DE: 'Europe/Berlin',
  IT: 'Europe/Rome',
  ES: 'Europe/Madrid',
  // The rest of the EU and EEA
  AT: 'Europe/Vienna',
  BE: 'Europe/Brussels',
  BG: 'Europe/Sofia',
  CY: 'Asia/Nicosia',
  CZ: 'Europe/Prague',
  DK: 'Europe/Copenhagen',
  EE: 'Europe/Tallinn',
  FI: 'Europe/Helsinki',
  GR: 'Europe/Athens',
  HR: 'Europe/Zagreb',
  HU: 'Europe/Budapest',
  IE: 'Europe/Dublin',
  IS: 'Atlantic/Reykjavik',
  LI: 'Europe/Vaduz',
  LT: 'Europe/Vilnius',
  LU: 'Europe/Luxembourg',
  LV: 'Europe/Riga',
  MT: 'Europe/Malta',
  NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo',
  PL: 'Europe/Warsaw',
  PT: 'Europe/Lisbon',
  RO: 'Europe/Bucharest',
  SE: 'Europe/Stockholm',
  SI: 'Europe/Ljubljana',
  SK: 'Europe/Bratislava',
  // European neighbours
  AD: 'Europe/Andorra',
  CH: 'Europe/Zurich',
  GB: 'Europe/London',
  MC: 'Europe/Monaco',
  SM: 'Europe/San_Marino',
  VA: 'Europe/Vatican',
  // French overseas departments and collectivities, which have their own country codes
  BL: 'America/St_Barthelemy',
  GF: 'America/Cayenne',
  GP: 'America/Guadeloupe',
  MF: 'America/Marigot',
  MQ: 'America/Martinique',
  NC: 'Pacific/Noumea',
  PF: 'Pacific/Tahiti',
  PM: 'America/Miquelon',
  RE: 'Indian/Reunion',
  WF: 'Pacific/Wallis',
  YT: 'Indian/Mayotte',
};

/** The IANA zone for a country code (case-insensitive); unknown, empty or missing → `fallback`. */
export function timeZoneForCountry(countryCode: string | null | undefined, fallback: string): string {
  const code = typeof countryCode === 'string' ? countryCode.trim().toUpperCase() : '';
  return Object.hasOwn(ZONE_BY_COUNTRY, code) ? (ZONE_BY_COUNTRY[code] as string) : fallback;
}

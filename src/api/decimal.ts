/** Cents as a decimal with two places, from the integer (no binary fraction on the way): `-52.40`,
 * as the file names and the export log write amounts. */
export function decimal(cents: number): string {
  const abs = Math.abs(cents);
  return `${cents < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Appends another exporter's Prometheus text (the Temporal SDK's) to ours. The text format allows one
 * HELP and one TYPE line per name and Prometheus rejects a scrape that repeats them, so a family both
 * define is kept once, ours, and a header the other text repeats is dropped.
 */
export function mergeExpositions(ours: string, theirs: string): string {
  const ourFamilies = familyNames(ours);
  const headers = new Set<string>();
  const kept: string[] = [];
  let dropping = false;
  for (const line of theirs.split('\n')) {
    if (line.trim() === '') continue;
    const header = /^# (HELP|TYPE) (\S+)/.exec(line);
    if (header) {
      dropping = ourFamilies.has(header[2]!);
      const key = `${header[1]} ${header[2]}`;
      if (dropping || headers.has(key)) continue;
      headers.add(key);
    } else if (line.startsWith('#') || dropping) {
      continue;
    }
    kept.push(line);
  }
  const head = ours === '' || ours.endsWith('\n') ? ours : `${ours}\n`;
  return kept.length === 0 ? head : `${head}${kept.join('\n')}\n`;
}

/** The names of the families a text declares (`# TYPE name kind`). */
export function familyNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) /gm)) names.add(match[1]!);
  return names;
}

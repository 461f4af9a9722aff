import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF = relative(ROOT, fileURLToPath(import.meta.url));

/** Pointers to documents outside the repository: a design page, "reference §N", machine paths. */
const OUTSIDE = [
  /DESIGN\.md/,
  /(?<![\w-])reference\s*(§|\/)/i,
  /\/work\//,
  /\.\.\/shared/,
  // A bare section number ("(§4.2)") points at a document nobody can find; an RFC's is fine.
  /(?<!RFC \d{3,5} )§\s*\d/,
];

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && pattern.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter((file) => file !== SELF && !file.startsWith('test/fixtures/') && !file.includes('node_modules'));
}

describe('comments and docs stand alone', () => {
  it('point only at documents in this repository', () => {
    const checked = [
      ...['src', 'activities', 'workflows', 'test', 'scripts', 'bench'].flatMap((dir) => files(dir, /\.(ts|tsx|js|css)$/)),
      ...files('docs', /\.md$/),
      'README.md',
    ];
    const offenders = checked.flatMap((file) =>
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) => (OUTSIDE.some((p) => p.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(offenders).toEqual([]);
  });

  it('point at docs pages and sections that exist', () => {
    const headings = (page: string) =>
      readFileSync(join(ROOT, 'docs', page), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('#'))
        .map((line) => line.replace(/^#+\s*/, ''));
    const broken: string[] = [];
    const sources = ['src', 'activities', 'workflows', 'test', 'scripts', 'bench'].flatMap((dir) => files(dir, /\.(ts|tsx)$/));
    for (const file of sources) {
      // `docs/<page>.md` optionally followed by `, <Section>`.
      for (const [, page, section] of readFileSync(join(ROOT, file), 'utf8').matchAll(/docs\/([\w-]+\.md)(?:, ([^).:;,\n]+))?/g)) {
        const known = files('docs', /\.md$/).includes(`docs/${page}`) ? headings(page!) : null;
        const wanted = section?.trim();
        if (known === null) broken.push(`${file}: docs/${page} does not exist`);
        else if (wanted && !known.some((h) => h.startsWith(wanted) || wanted.startsWith(h))) broken.push(`${file}: no section "${wanted}" in docs/${page}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('link every docs page from the README', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const page of files('docs', /\.md$/)) expect(readme).toContain(`(${page})`);
  });
});

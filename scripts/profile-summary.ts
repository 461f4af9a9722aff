/**
 * Self time by function and by file (package) of a .cpuprofile, optionally only over a window
 * (`--from-end=S` : the S seconds before the profile's end, `--skip-end=S` : minus the last S seconds).
 * Usage: tsx scripts/profile-summary.ts file.cpuprofile [--from-end=26] [--skip-end=1] [--top=40]
 */
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'))!;
const opt = (name: string) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? NaN);
const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const fromEnd = opt('from-end');
const skipEnd = Number.isNaN(opt('skip-end')) ? 0 : opt('skip-end');
const top = Number.isNaN(opt('top')) ? 40 : opt('top');
const hi = p.endTime - skipEnd * 1e6;
const lo = Number.isNaN(fromEnd) ? -Infinity : p.endTime - fromEnd * 1e6;

const fileOf = (url: string) => {
  if (!url) return '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return `npm:${m[1]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\/\/work\/wt-p\//, '');
};
const fn = new Map<string, number>();
const files = new Map<string, number>();
const incl = new Map<string, number>();
let t = p.startTime;
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i]!;
  const dt = p.timeDeltas[i + 1] ?? 0;
  if (t < lo || t > hi) continue;
  total += dt;
  const n = byId.get(p.samples[i]!)!;
  const { functionName, url, lineNumber } = n.callFrame;
  const key = `${functionName || '(anon)'} ${fileOf(url)}:${lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + dt);
  const f = functionName.startsWith('(') ? functionName : fileOf(url);
  files.set(f, (files.get(f) ?? 0) + dt);
  // inclusive time by product file (each file counted once per sample)
  const seen = new Set<string>();
  for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
    const c = byId.get(id)!.callFrame;
    const k = `${c.functionName || '(anon)'} ${fileOf(c.url)}:${c.lineNumber + 1}`;
    if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + dt); }
  }
}
if (args.includes('--timeline')) {
  // busy share per second from the start: to find the window to summarise
  const per = new Map<number, [number, number]>();
  let tt = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    tt += p.timeDeltas[i]!;
    const sec = Math.floor((tt - p.startTime) / 1e6);
    const idle = byId.get(p.samples[i]!)!.callFrame.functionName === '(idle)';
    const e = per.get(sec) ?? [0, 0];
    e[idle ? 1 : 0] += p.timeDeltas[i + 1] ?? 0;
    per.set(sec, e);
  }
  console.log(`duration ${((p.endTime - p.startTime) / 1e6).toFixed(1)} s; busy % per second:`);
  console.log([...per].map(([k, [b, i]]) => `${k}:${Math.round((100 * b) / (b + i || 1))}`).join(' '));
}
const show = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n== ${title} (total ${(total / 1e6).toFixed(2)} s)`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(`${(v / 1e6).toFixed(2).padStart(7)} s ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
};
show('self time by file/package', files, 30);
show('self time by function', fn, top);
show('inclusive time by function', incl, top);

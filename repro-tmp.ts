import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const app = new Hono();
app.use('*', bodyLimit({ maxSize: 16384, onError: (c) => c.json({ error: { code: 'payload_too_large' } }, 413) }));
app.post('/api/x', async (c) => c.json(await c.req.json()));
writeFileSync('/tmp/auth-scratch/5mb.json', JSON.stringify({ a: 'x'.repeat(5 << 20) }));
const server = serve({ fetch: app.fetch, port: 0 }, async (info) => {
  for (const extra of [[], ['-H', 'Expect:'], ['--limit-rate', '2M'], ['--limit-rate', '2M', '-H', 'Expect:']]) {
    const t0 = Date.now();
    await new Promise<void>((res) => { const p = execFile('curl', ['-sS', ...extra, '-w', '\n%{http_code}', '--data-binary', '@/tmp/auth-scratch/5mb.json', `http://127.0.0.1:${info.port}/api/x`], (err: any, out: string, e: string) => { console.log(extra.join(' '), Date.now() - t0, JSON.stringify(out), e.trim(), err?.code); res(); }); });
  }
  server.close(); process.exit(0);
});

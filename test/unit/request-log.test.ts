import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requestLog } from '../../src/api/request-log.js';
import { createLogger } from '../../src/logger.js';

/** pino's numeric levels. */
const INFO = 30;
const WARN = 40;
const ERROR = 50;

function setup() {
  const output: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void output.push(line) } });
  const app = new Hono();
  app.use('*', requestLog(logger));
  app.onError((_error, c) => c.json({ error: { code: 'internal_error' } }, 500));
  app.get('/healthz', (c) => c.json({ status: 'ok', requestId: c.get('requestId') }));
  app.get('/auth/microsoft/callback', (c) => c.redirect('/done'));
  app.get('/api/items', (c) => c.json({ error: { code: 'unauthorized' } }, 401));
  app.get('/boom', () => {
    throw new Error('kaput');
  });
  const text = () => output.join('');
  const lines = () => output.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { app, text, lines };
}

describe('requestLog', () => {
  it('writes one JSON line per request with id, method, path, status and duration', async () => {
    const { app, lines } = setup();
    const res = await app.request('/healthz');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { requestId: string };
    const reqId = res.headers.get('X-Request-Id');
    expect(reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.requestId).toBe(reqId);

    await app.request('/healthz', { method: 'GET' });
    const logged = lines();
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ level: INFO, reqId, method: 'GET', path: '/healthz', status: 200 });
    expect(typeof logged[0]!.ms).toBe('number');
    expect(logged[0]!.ms as number).toBeGreaterThanOrEqual(0);
    expect(logged[1]!.reqId).not.toBe(reqId);
  });

  it('reuses a sane incoming X-Request-Id and replaces a hostile one', async () => {
    const { app, lines } = setup();
    const reused = await app.request('/healthz', { headers: { 'X-Request-Id': 'abc-123-DEF' } });
    expect(reused.headers.get('X-Request-Id')).toBe('abc-123-DEF');

    const hostile = ['../x\n', 'a'.repeat(200), 'id with spaces'];
    for (const id of hostile) {
      // Headers strip the trailing newline; the `../x` left over must still be refused.
      const res = await app.request('/healthz', { headers: { 'X-Request-Id': id } });
      const echoed = res.headers.get('X-Request-Id');
      expect(echoed).not.toBe(id);
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    }
    const ids = lines().map((l) => l.reqId);
    expect(ids[0]).toBe('abc-123-DEF');
    for (const id of ids.slice(1)) expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never logs OAuth codes, state or tokens from the query string', async () => {
    const { app, text, lines } = setup();
    const res = await app.request(
      '/auth/microsoft/callback?code=SECRETCODE&state=SECRETSTATE&session_state=SECRETSESSION&lang=fr',
    );
    expect(res.status).toBe(302);
    await app.request('/healthz?access_token=SECRETTOKEN&Refresh_Token=SECRETREFRESH&client_secret=SECRETCLIENT');
    const out = text();
    expect(out).not.toContain('SECRET');
    const [callback, health] = lines();
    expect(callback).toMatchObject({
      path: '/auth/microsoft/callback?code=[redacted]&state=[redacted]&session_state=[redacted]&lang=fr',
      status: 302,
    });
    expect(health!.path).toBe('/healthz?access_token=[redacted]&Refresh_Token=[redacted]&client_secret=[redacted]');
  });

  it('never logs the Microsoft username the sign-in redirects to in ?connected=', async () => {
    const { app, text, lines } = setup();
    await app.request('/healthz?integration=abc&connected=camille.martin%40outlook.com&resumed=true');
    await app.request('/healthz?connected=camille.martin@outlook.com');
    expect(text()).not.toContain('camille');
    expect(lines()[0]!.path).toBe('/healthz?integration=abc&connected=[redacted]&resumed=true');
  });

  it('never logs Authorization or Cookie header values', async () => {
    const { app, text } = setup();
    await app.request('/api/items', {
      headers: { Authorization: 'Bearer ADMINTOKENVALUE', Cookie: 'session=COOKIEVALUE' },
    });
    const out = text();
    expect(out).toContain('/api/items');
    expect(out).not.toContain('ADMINTOKENVALUE');
    expect(out).not.toContain('COOKIEVALUE');
  });

  it('logs 4xx at warn level', async () => {
    const { app, lines } = setup();
    await app.request('/api/items');
    expect(lines()).toEqual([expect.objectContaining({ level: WARN, path: '/api/items', status: 401 })]);
  });

  it('still logs a thrown handler error, at error level with the status the error handler chose', async () => {
    const { app, lines } = setup();
    const res = await app.request('/boom');
    expect(res.status).toBe(500);
    expect(res.headers.get('X-Request-Id')).toMatch(/^[0-9a-f-]{36}$/);
    const logged = lines();
    expect(logged).toEqual([expect.objectContaining({ level: ERROR, method: 'GET', path: '/boom', status: 500 })]);
    expect(logged[0]!.reqId).toBe(res.headers.get('X-Request-Id'));
  });
});

describe('createLogger', () => {
  it('censors credentials that reach a log call by mistake', () => {
    const output: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => void output.push(line) } });
    logger.info({
      req: { headers: { authorization: 'Bearer LEAK1', cookie: 'sid=LEAK2' } },
      tokens: { token: 'LEAK3', accessToken: 'LEAK4', refreshToken: 'LEAK5' },
      oauth: { code: 'LEAK6', secret: 'LEAK7' },
    });
    expect(output).toHaveLength(1);
    expect(output[0]).not.toContain('LEAK');
    expect(output[0]).toContain('[redacted]');
  });

  it('honours the level', () => {
    const output: string[] = [];
    const logger = createLogger({ level: 'warn', destination: { write: (line: string) => void output.push(line) } });
    logger.info('quiet');
    logger.warn('loud');
    expect(output).toHaveLength(1);
    expect(output[0]).toContain('loud');
  });
});

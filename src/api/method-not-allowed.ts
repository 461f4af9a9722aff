import type { Context, NotFoundHandler } from 'hono';
import { errorBody } from './errors.js';

interface Route {
  method: string;
  path: string;
}

const pattern = (path: string) =>
  new RegExp(`^${path.split('/').map((segment) => (segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`);

/** The methods a path answers to, in route order (HEAD with GET, as Hono serves it); middleware (ALL) left out. */
export function allowedMethods(routes: readonly Route[], path: string): string[] {
  const methods = new Set<string>();
  for (const route of routes) {
    if (route.method === 'ALL' || !pattern(route.path).test(path)) continue;
    methods.add(route.method);
    if (route.method === 'GET') methods.add('HEAD');
  }
  return [...methods];
}

/** A known path asked with another method answers 405 with `Allow` (RFC 9110), not 404. */
export function methodAware(notFound: NotFoundHandler, routes: () => readonly Route[]): NotFoundHandler {
  return (c: Context) => {
    const allowed = allowedMethods(routes(), c.req.path);
    if (allowed.length === 0) return notFound(c);
    c.header('allow', allowed.join(', '));
    return c.json(errorBody('method_not_allowed', `${c.req.method} is not allowed on ${c.req.path}: use ${allowed.join(', ')}`), 405);
  };
}

import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { ErrorPage } from './pages/error-page.js';
import { MESSAGES, localeOf } from './pages/i18n.js';

/** A browser navigating to a page (not the JSON API) reads errors as a page; everyone else gets JSON. */
function wantsHtml(c: Context): boolean {
  return !c.req.path.startsWith('/api/') && (c.req.header('accept') ?? '').includes('text/html');
}

async function asPage(c: Context, json: Response): Promise<Response> {
  const body = (await json.clone().json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  const locale = localeOf(c);
  const page = { locale, t: MESSAGES[locale], sandbox: false, viewer: null, path: c.req.path };
  const code = body?.error?.code ?? 'error';
  const message = body?.error?.message ?? '';
  return c.html(<ErrorPage page={page} status={json.status} code={code} message={message} />, json.status as 200);
}

/** Wraps the JSON error handlers so refused sign-ins and expired links show a readable page. */
export function htmlErrors(onError: ErrorHandler, notFound: NotFoundHandler): { onError: ErrorHandler; notFound: NotFoundHandler } {
  return {
    onError: async (error, c) => {
      const json = await onError(error, c);
      return wantsHtml(c) ? asPage(c, json) : json;
    },
    notFound: async (c) => {
      const json = await notFound(c);
      return wantsHtml(c) ? asPage(c, json) : json;
    },
  };
}

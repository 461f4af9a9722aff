import type { Child } from 'hono/jsx';
import { LOCALES, type Locale, type Messages } from './i18n.js';

export interface PageContext {
  locale: Locale;
  t: Messages;
  /** Shows the Sandbox badge and the link to the simulated drive. */
  sandbox: boolean;
  /** Who is signed in, for the header; null on the sign-in page. */
  viewer: { name: string; role: string } | null;
  /** The current path and query, for the language links. */
  path: string;
}

const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', de: 'Deutsch' };

function languageLink(path: string, lang: Locale): string {
  const url = new URL(path, 'http://page');
  url.searchParams.set('lang', lang);
  return `${url.pathname}${url.search}`;
}

/** Every page: header (title, Sandbox badge, language switch, sign-out), then the content. */
export function Layout(props: { page: PageContext; title: string; children?: Child }) {
  const { page } = props;
  const { t } = page;
  return (
    <html lang={page.locale}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · ${t.title}`}</title>
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          {t.skip}
        </a>
        <header class="top">
          <a class="brand" href="/">
            {t.title}
          </a>
          {page.sandbox && (
            <a class="badge" href="/sandbox/drive" title={t.sandboxHint}>
              {t.sandbox}
            </a>
          )}
          <nav class="lang" aria-label={t.language}>
            {LOCALES.map((lang) => (
              <a href={languageLink(page.path, lang)} lang={lang} hreflang={lang} aria-current={lang === page.locale ? 'true' : undefined}>
                {LANGUAGE_NAMES[lang]}
              </a>
            ))}
          </nav>
          {page.viewer && (
            <form class="signout" method="post" action="/auth/logout">
              <span>{t.signedInAs(page.viewer.name, page.viewer.role)}</span>
              <button type="submit" class="link">
                {t.signOut}
              </button>
            </form>
          )}
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        {page.sandbox && (
          <footer class="sandbox-note">
            <p>
              {t.sandboxHint} <a href="/sandbox/drive">{t.browseDrive}</a>
            </p>
          </footer>
        )}
      </body>
    </html>
  );
}

import { Layout, type PageContext } from './layout.js';

/** A refused sign-in, an expired link or a page that does not exist, said plainly, with a way back. */
export function ErrorPage(props: { page: PageContext; status: number; code: string; message: string }) {
  const { t } = props.page;
  const title =
    props.code === 'invalid_state'
      ? t.expiredTitle
      : props.status === 403
        ? t.notAllowedTitle
        : props.status === 404
          ? t.notFoundTitle
          : props.status >= 500
            ? t.errorTitle
            : t.refusedTitle;
  return (
    <Layout page={props.page} title={title}>
      <section class="card refusal" aria-labelledby="error-title">
        <h1 id="error-title">{title}</h1>
        <p>{props.message}</p>
        <p class="code">
          <code>{props.code}</code>
        </p>
        <a class="button primary" href="/">
          {t.backHome}
        </a>
      </section>
    </Layout>
  );
}

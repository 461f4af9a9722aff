/**
 * A browser reduced to what the sign-in flows need, over real HTTP: a cookie jar for the service's
 * origin, redirects followed by hand (each hop checked), `Origin` on state-changing requests.
 * The simulators' consent pages are skipped with `login_hint` (the account a person would pick).
 */
export class HttpBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  /** A request to the service; Set-Cookie answers go into the jar (an expired one leaves it). */
  async call(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { cookie: this.cookieHeader() };
    if (method !== 'GET') headers.origin = this.origin;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.origin), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
      signal: AbortSignal.timeout(30_000),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.call(method, path, body);
    return { status: res.status, body: (await res.json()) as T };
  }

  /** "Sign in with Qonto" as `membershipId`: our login → Qonto's consent → our callback (session cookie). */
  async signInWithQonto(membershipId: string): Promise<void> {
    const login = await this.call('GET', '/auth/qonto/login');
    if (login.status !== 302) throw new Error(`/auth/qonto/login answered ${login.status}`);
    const back = await this.consent(login.headers.get('location')!, membershipId);
    const callback = await this.call('GET', back);
    if (callback.status !== 302 || !this.cookies.has('session')) throw new Error(`the Qonto callback answered ${callback.status}: ${await callback.text()}`);
  }

  /**
   * Connect as a signed-in member: POST /api/integrations, the Microsoft sign-in of `username` on the
   * identity simulator, our callback, then POST finish. Returns the integration's id.
   */
  async connect(username: string, finish: { syncFrom: string; timeZone?: string }): Promise<string> {
    const created = await this.json<{ id: string; authorizationUrl: string }>('POST', '/api/integrations');
    if (created.status !== 201) throw new Error(`Connect answered ${created.status}: ${JSON.stringify(created.body)}`);
    const back = await this.consent(created.body.authorizationUrl, username);
    const callback = await this.call('GET', back);
    const location = callback.headers.get('location') ?? '';
    if (callback.status !== 302 || !location.includes('connected=')) throw new Error(`the Microsoft callback answered ${callback.status} ${location}`);
    const finished = await this.call('POST', `/api/integrations/${created.body.id}/finish`, finish);
    if (finished.status !== 202) throw new Error(`finish answered ${finished.status}: ${await finished.text()}`);
    return created.body.id;
  }

  /** The provider's authorize URL with the account chosen; returns where the provider sends the browser back. */
  private async consent(authorizeUrl: string, loginHint: string): Promise<string> {
    const authorize = new URL(authorizeUrl);
    authorize.searchParams.set('login_hint', loginHint);
    const res = await fetch(authorize, { redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location) throw new Error(`${authorize.origin} answered ${res.status} to the consent`);
    const back = new URL(location);
    if (back.origin !== this.origin) throw new Error(`the provider sent the browser to ${back.origin}, not ${this.origin}`);
    return `${back.pathname}${back.search}`;
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** The two ways to authenticate against the Qonto Business API (docs/contracts-qonto.md, Authentication). */
export type QontoAuth =
  /** Organization API key: header `Authorization: login:secret`, no scheme, no Base64. */
  | { kind: 'apiKey'; login: string; secret: string }
  /** OAuth access token, refreshed by the caller before it expires (401s count toward throttling). */
  | { kind: 'oauth'; getAccessToken: () => Promise<string> };

export async function authorizationHeader(auth: QontoAuth): Promise<string> {
  if (auth.kind === 'apiKey') return `${auth.login}:${auth.secret}`;
  return `Bearer ${await auth.getAccessToken()}`;
}

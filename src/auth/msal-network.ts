/**
 * MSAL's network module, so MSAL can talk to an identity endpoint other than the real one.
 *
 * msal-node refuses `http://` authorities and has built-in metadata for login.microsoftonline.com,
 * so MSAL keeps the real authority and this module sends its requests to the configured login
 * URL instead (e.g. the identity simulator). It also remembers the last HTTP answer, because MSAL's
 * errors do not carry the status or Retry-After that decide whether a failure is worth retrying.
 */
import { outboundFetch } from '../http/outbound.js';
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { z } from 'zod';

export const MICROSOFT_LOGIN_URL = 'https://login.microsoftonline.com';

const POST_TIMEOUT_MS = 30_000;

/** Identity endpoint answers (token responses in practice), validated loosely: MSAL reads them, unknown fields pass through. */
const identityResponseBody = z.looseObject({
  error: z.string().optional(),
  error_description: z.string().optional(),
  access_token: z.string().optional(),
  refresh_token: z.string().optional(),
  id_token: z.string().optional(),
  client_info: z.string().optional(),
  scope: z.string().optional(),
  expires_in: z.union([z.number(), z.string()]).optional(),
});

/** Sends a URL of the real login host to `loginUrl` (origin and any path prefix); others unchanged. */
export function rewriteLoginUrl(url: string, loginUrl: string): string {
  const target = loginUrl.replace(/\/+$/, '');
  if (target === MICROSOFT_LOGIN_URL) return url;
  if (url === MICROSOFT_LOGIN_URL || url.startsWith(`${MICROSOFT_LOGIN_URL}/`) || url.startsWith(`${MICROSOFT_LOGIN_URL}?`)) {
    return target + url.slice(MICROSOFT_LOGIN_URL.length);
  }
  return url;
}

export interface LastResponse {
  status: number;
  retryAfter?: string;
}

export class MsalNetworkClient implements INetworkModule {
  /** The last answer received, or undefined when the last request got none (connection failure). */
  lastResponse?: LastResponse;

  /** Connect and idle deadlines as every other client (MSAL's own timeout still bounds the whole request). */
  private readonly fetchImpl = outboundFetch();

  constructor(private readonly loginUrl: string) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions, timeout?: number): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options, POST_TIMEOUT_MS);
  }

  private async send<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeout: number | undefined): Promise<NetworkResponse<T>> {
    this.lastResponse = undefined;
    const response = await this.fetchImpl(rewriteLoginUrl(url, this.loginUrl), {
      method,
      headers: options?.headers,
      body: method === 'POST' ? (options?.body ?? '') : undefined,
      redirect: 'manual',
      signal: timeout ? AbortSignal.timeout(timeout) : undefined,
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    this.lastResponse = { status: response.status, retryAfter: headers['retry-after'] };
    const text = await response.text();
    return { headers, status: response.status, body: parseBody(text, response.status) as T };
  }
}

/** A body MSAL can read: the JSON answer, or an OAuth-style error when the answer is not JSON
 * (a proxy's HTML error page must not turn into a confusing parse failure). */
function parseBody(text: string, status: number): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: status >= 500 || status === 429 ? 'temporarily_unavailable' : 'invalid_response', error_description: `HTTP ${status} with a body that is not JSON` };
  }
  const parsed = identityResponseBody.safeParse(json);
  if (!parsed.success) return { error: 'invalid_response', error_description: `HTTP ${status} with an unexpected JSON body` };
  return parsed.data;
}

/** A network module that sends nothing: every request fails, and `asked` records that MSAL wanted one
 * (to refresh a token, including the refresh ahead of time whose failure MSAL swallows). */
export class OfflineNetworkClient implements INetworkModule {
  asked = false;

  sendGetRequestAsync<T>(): Promise<NetworkResponse<T>> {
    return this.refuse();
  }

  sendPostRequestAsync<T>(): Promise<NetworkResponse<T>> {
    return this.refuse();
  }

  private refuse(): Promise<never> {
    this.asked = true;
    return Promise.reject(new Error('offline: no request to the identity service on this path'));
  }
}

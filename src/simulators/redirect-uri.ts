/** Whether an OAuth simulator may redirect to `redirectUri` for this client: one of its registered
 * URIs, or any http(s) URI when the client registered none (simulators accept any client by default). */
export function redirectUriAllowed(client: { redirectUris?: string[] }, redirectUri: string): boolean {
  if (client.redirectUris) return client.redirectUris.includes(redirectUri);
  try {
    const { protocol } = new URL(redirectUri);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

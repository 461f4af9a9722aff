import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { startEmbeddedServer } from '../../src/temporal/dev-server.js';
import { freePort } from '../support/harness.js';

it("points the embedded Temporal UI at the service's codec server", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'embedded-ui-'));
  const server = await startEmbeddedServer({ dataDir, port: await freePort(), uiPort: await freePort(), namespace: 'default', codecEndpoint: 'http://localhost:3000/codec' });
  try {
    // What the UI's browser code reads to know where to decode payloads.
    const settings = (await (await fetch(`${server.uiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe('http://localhost:3000/codec');
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// The image's HEALTHCHECK (Dockerfile): exits 0 when this container's `GET /readyz` answers 2xx,
// else 1. With node, since slim images have no curl.
const port = process.env.PORT || '3000';
try {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(4_000) });
  if (!response.ok) console.error(`/readyz answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  process.exitCode = response.ok ? 0 : 1;
} catch (error) {
  console.error(`/readyz did not answer: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}

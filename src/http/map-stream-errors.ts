/**
 * Passes `body` through chunk by chunk, only as fast as the reader pulls (no buffering), and hands an
 * error raised while reading to `mapError`, whose result is what the reader sees: a connection lost or
 * stalled midway becomes a typed error that says another try can succeed.
 */
export function mapStreamErrors(body: ReadableStream<Uint8Array>, mapError: (error: unknown) => unknown): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (error) {
          controller.error(mapError(error));
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

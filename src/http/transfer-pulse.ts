/**
 * Whether an activity's transfers are moving. Requests made while an activity runs (inside
 * `withPulse`) report to its pulse: when they wait on the network (for an answer, or for the next
 * piece of a body being read) and every byte that moves either way. The activity heartbeats only
 * while the pulse is alive, so a transfer stuck on a connection that accepted and never answers stops
 * the heartbeat, and Temporal gives the work to another attempt, instead of the timer beating on.
 *
 * The pulse is found through the async context (as Temporal's own Context.current() is), so the
 * clients need not pass it through every call; a request made outside any activity is not tracked.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/** Pieces a request body is cut into, so that sending it shows as bytes moving, not one jump. */
export const BODY_PIECE = 64 * 1024;

/** How long a request whose body is fully sent keeps the pulse alive while it waits for its answer:
 * an upload-session fragment is stored before the server answers. Bounded, and equal to the default
 * deadline for that answer (src/http/deadlines.ts, slowAnswerMs), so a server that never answers still
 * stops the heartbeat. */
export const ANSWER_GRACE_MS = 60_000;

export class TransferPulse {
  /** Network waits under way: answers awaited and body reads pending. */
  private waits = 0;
  private moved = 0;
  private seen = 0;
  /** When each request still awaiting its answer finished sending its body. */
  private readonly sent = new Set<{ at: number }>();

  /** Bytes moved since the pulse was made (request bodies sent and answers read). */
  get bytes(): number {
    return this.moved;
  }

  /**
   * True when bytes moved since the last call, or nothing waits on the network (the activity is
   * computing, or waiting on purpose: a back-off window, a retry's delay), or a request sent its
   * whole body less than ANSWER_GRACE_MS ago and awaits the answer: then a heartbeat is due. False
   * while requests wait and nothing moves.
   */
  alive(): boolean {
    const moved = this.moved !== this.seen;
    this.seen = this.moved;
    return moved || this.waits === 0 || this.answerAwaited();
  }

  /** Records a request body fully sent; the returned function ends the wait (answer or failure). */
  bodySent(): () => void {
    const entry = { at: Date.now() };
    this.sent.add(entry);
    return () => this.sent.delete(entry);
  }

  private answerAwaited(): boolean {
    const now = Date.now();
    for (const { at } of this.sent) if (now - at <= ANSWER_GRACE_MS) return true;
    return false;
  }

  add(bytes: number): void {
    this.moved += bytes;
  }

  /** Counts `step` as a wait on the network while it is pending. */
  async waitingOn<T>(step: Promise<T>): Promise<T> {
    this.waits += 1;
    try {
      return await step;
    } finally {
      this.waits -= 1;
    }
  }
}

const current = new AsyncLocalStorage<TransferPulse>();

/** Runs `fn` with `pulse` as the pulse of every request it makes. */
export function withPulse<T>(pulse: TransferPulse, fn: () => Promise<T>): Promise<T> {
  return current.run(pulse, fn);
}

/** `fetchImpl` reporting to the pulse of the activity that calls it (if any). */
export function trackTransfers(fetchImpl: typeof fetch): typeof fetch {
  return async (input, init) => {
    const pulse = current.getStore();
    if (!pulse) return fetchImpl(input, init);
    const body = init?.body;
    let answered = false;
    let endWait: (() => void) | undefined;
    const bodyDone = () => {
      if (!answered) endWait = pulse.bodySent();
    };
    const sent = body instanceof ReadableStream ? { ...init, body: counted(body as ReadableStream<Uint8Array>, pulse, false, bodyDone) } : init;
    let res: Response;
    try {
      res = await pulse.waitingOn(fetchImpl(input, sent));
    } finally {
      answered = true;
      endWait?.();
    }
    pulse.add(1); // the answer's headers: something moved
    if (!res.body) return res;
    return new Response(counted(res.body, pulse, true), { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/** `body` passed through piece by piece, each piece counted as moved; reads of an answer (`waits`)
 * count as waits on the network. A request body is pulled by fetch as the socket takes it; `onDone`
 * is called when its end is reached. */
function counted(body: ReadableStream<Uint8Array>, pulse: TransferPulse, waits: boolean, onDone?: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let rest: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (rest === undefined || rest.length === 0) {
          const read = waits ? await pulse.waitingOn(reader.read()) : await reader.read();
          if (read.done) {
            onDone?.();
            return controller.close();
          }
          rest = read.value;
        }
        const piece = rest.subarray(0, BODY_PIECE);
        rest = rest.subarray(piece.length);
        pulse.add(piece.length);
        controller.enqueue(piece);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

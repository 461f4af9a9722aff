/**
 * One request/response pair with what every handler needs: the raw path (never normalised, so
 * percent-encoded segments reach the parser intact), the query, request ids for error bodies, a
 * body reader that obeys `drop-after-bytes` faults, and a drained-then-answer error path.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { sendJson } from '../http.js';
import { type GraphError, errorBody, invalidRequest } from './errors.js';

/** The connection went away mid-request (client abort or injected drop): nothing can be answered. */
export class ConnectionDropped extends Error {
  constructor() {
    super('connection dropped');
    this.name = 'ConnectionDropped';
  }
}

const JSON_LIMIT = 1024 * 1024;

export class Exchange {
  readonly method: string;
  /** Path without the query string, exactly as sent. */
  readonly rawPath: string;
  readonly query: URLSearchParams;
  readonly requestId = randomUUID();
  readonly clientRequestId: string;
  private bytesRead = 0;
  private bodyEnded = false;
  private dropAfterBytes?: number;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
  ) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.method = (req.method ?? 'GET').toUpperCase();
    this.rawPath = q < 0 ? url : url.slice(0, q);
    this.query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const clientId = req.headers['client-request-id'];
    this.clientRequestId = typeof clientId === 'string' ? clientId : this.requestId;
  }

  header(name: string): string | undefined {
    const value = this.req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  }

  /** From now on the connection is destroyed once `bytes` of the body were read (or the body ended). */
  armDrop(bytes: number): void {
    this.dropAfterBytes = bytes;
  }

  /**
   * The request body chunk by chunk; throws ConnectionDropped when the connection goes away. A
   * consumer may stop early (a size or quota refusal) without killing the socket: the rest can still
   * be drained and answered.
   */
  async *body(): AsyncGenerator<Buffer> {
    const limit = this.dropAfterBytes;
    try {
      for await (const chunk of this.req.iterator({ destroyOnReturn: false })) {
        const buf = chunk as Buffer;
        if (limit !== undefined && this.bytesRead + buf.length >= limit) {
          const part = buf.subarray(0, limit - this.bytesRead);
          this.bytesRead = limit;
          if (part.length > 0) yield part;
          break;
        }
        this.bytesRead += buf.length;
        yield buf;
      }
    } catch {
      this.destroy();
      throw new ConnectionDropped();
    }
    if (limit !== undefined) {
      this.destroy();
      throw new ConnectionDropped();
    }
    this.bodyEnded = true;
  }

  async json<T>(schema: z.ZodType<T>): Promise<T> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.body()) {
      size += chunk.length;
      if (size > JSON_LIMIT) throw invalidRequest('Request body is too large.');
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    let value: unknown;
    try {
      value = text === '' ? {} : JSON.parse(text);
    } catch {
      throw invalidRequest('Request body is not valid JSON.');
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw invalidRequest(`Invalid request body: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  /** Reads and discards whatever body is left, so an early answer never races a client still sending. */
  async discardBody(): Promise<void> {
    if (this.bodyEnded) return;
    for await (const _chunk of this.body());
  }

  /** Holds the answer back this long once it is ready (FaultAction 'slow-answer'). */
  delayAnswer(ms: number): void {
    this.answerDelayMs = ms;
  }
  private answerDelayMs = 0;

  send(status: number, body?: unknown, headers: Record<string, string> = {}): void {
    if (this.answerDelayMs > 0) {
      const ms = this.answerDelayMs;
      this.answerDelayMs = 0;
      setTimeout(() => this.send(status, body, headers), ms);
      return;
    }
    if (this.dropAfterBytes !== undefined) return this.destroy();
    const all = { 'request-id': this.requestId, 'client-request-id': this.clientRequestId, ...headers };
    if (body === undefined) {
      this.res.writeHead(status, all);
      this.res.end();
    } else {
      sendJson(this.res, status, body, all);
    }
  }

  async fail(err: GraphError): Promise<void> {
    await this.discardBody();
    this.send(err.status, errorBody(err, this), err.headers);
  }

  destroy(): void {
    this.req.socket.destroy();
  }
}

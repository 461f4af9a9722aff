import type { Logger as TemporalLogger, LogLevel as TemporalLogLevel, LogMetadata } from '@temporalio/common';
import pino from 'pino';
import { redactText, redactValue } from './log-redaction.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A pino logger whose every call is redacted before it is written (log-redaction.ts): the message,
 * its interpolation arguments and every field. JSON lines on stdout unless a destination is given.
 */
export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): pino.Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args as unknown[];
        // `log.error(error)` and `log.error(error, 'msg')`: pino's shape, `{err}` plus the message.
        const head = first instanceof Error ? { err: first } : first;
        if (first instanceof Error && typeof rest[0] !== 'string') rest.unshift(first.message);
        const redacted = [head, ...rest].map((arg) => (typeof arg === 'string' ? redactText(arg) : redactValue(arg)));
        return method.apply(this, redacted as Parameters<pino.LogFn>);
      },
    },
    // Errors arrive already reduced to {type, code, message, stack} by the redaction above.
    serializers: { err: (error: unknown) => error },
  };
  return opts.destination === undefined ? pino(options) : pino(options, opts.destination);
}

/** The process's one logger; `main` sets its level from LOG_LEVEL once the configuration is read. */
export const logger = createLogger();

const TEMPORAL_LEVELS: Record<TemporalLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Temporal's Logger interface on top of pino, for `Runtime.install({ logger })`: the SDK's own
 * messages, activity `log` calls and, through the worker's default logger sink, workflow `log` calls.
 */
export function temporalLogger(base: pino.Logger): TemporalLogger {
  const write = (level: TemporalLogLevel, message: string, meta?: LogMetadata) => {
    base[TEMPORAL_LEVELS[level]]({ ...meta }, message);
  };
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

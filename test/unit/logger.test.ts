import { describe, expect, it } from 'vitest';
import { createLogger, temporalLogger } from '../../src/logger.js';

function capture(level = 'info') {
  const output: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void output.push(line) } });
  const lines = () => output.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, output, lines };
}

const FILE = '2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf';

describe('createLogger', () => {
  it('redacts the message, its arguments, the fields and errors of every call', () => {
    const { logger, output, lines } = capture();
    logger.warn({ integrationId: 'int-1', username: 'camille.martin@outlook.com', err: new Error(`${FILE}: 507`) }, 'run of %s ended early', 'camille.martin@outlook.com');
    logger.error(`upload ${FILE} failed`);
    const text = output.join('');
    expect(text).not.toContain('camille');
    expect(text).not.toContain('Amazon');
    expect(text).not.toContain('52.40');
    const [first, second] = lines();
    expect(first).toMatchObject({ level: 40, integrationId: 'int-1', msg: 'run of [email] ended early', err: { type: 'Error', message: '[file]: 507' } });
    expect(second!.msg).toBe('upload [file] failed');
  });

  it('keeps the operator\'s start-up lines as they are', () => {
    const { logger, lines } = capture();
    logger.info('Open http://localhost:3000 to set up the sync.');
    expect(lines()[0]!.msg).toBe('Open http://localhost:3000 to set up the sync.');
  });
});

describe('temporalLogger', () => {
  it('writes Temporal SDK, activity and workflow log calls through pino, redacted, at their level', () => {
    const { logger, lines } = capture('debug');
    const temporal = temporalLogger(logger);
    temporal.warn('run ended early', { workflowId: 'integration-1', sdkComponent: 'workflow', error: `${FILE}: quota` });
    temporal.log('ERROR', 'activity failed', { activityType: 'exportBatch', fileName: FILE });
    temporal.debug('polling');
    temporal.trace('too verbose');
    const logged = lines();
    expect(logged.map((l) => l.level)).toEqual([40, 50, 20]);
    expect(logged[0]).toMatchObject({ msg: 'run ended early', workflowId: 'integration-1', sdkComponent: 'workflow', error: '[file]: quota' });
    expect(logged[1]).toMatchObject({ activityType: 'exportBatch', fileName: '[redacted]' });
  });
});

describe('createLogger with an error as the only argument', () => {
  it('logs it as err with its redacted message', () => {
    const { logger, lines } = capture();
    logger.error(new TypeError(`cannot read ${FILE}`));
    expect(lines()[0]).toMatchObject({ msg: 'cannot read [file]', err: { type: 'TypeError', message: 'cannot read [file]' } });
  });
});

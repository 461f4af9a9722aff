import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { installTemporalLogging } from '../../src/temporal/runtime-logging.js';

const FILE = '2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf';
const USERNAME = 'camille.martin@outlook.com';

it('sends workflow log calls through the redacting pino logger (runtime logger and workflow sink)', async () => {
  const output: string[] = [];
  installTemporalLogging(createLogger({ level: 'info', destination: { write: (line: string) => void output.push(line) } }));

  const address = inject('temporalAddress');
  const taskQueue = `logging-${randomUUID()}`;
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowsPath: fileURLToPath(new URL('../support/logging-workflow.ts', import.meta.url)),
  });
  const clientConnection = await Connection.connect({ address });
  const client = new Client({ connection: clientConnection });
  const workflowId = `logging-${randomUUID()}`;
  await worker.runUntil(client.workflow.execute('logsPersonalData', { taskQueue, workflowId, args: [FILE, USERNAME] }));
  await clientConnection.close();
  await connection.close();

  const lines = output.map((l) => JSON.parse(l) as Record<string, unknown>);
  const logged = lines.find((l) => l.sdkComponent === 'workflow' && l.workflowId === workflowId);
  expect(logged).toMatchObject({ level: 40, component: 'temporal', msg: 'export of [file] failed', error: '[file]: quota exceeded', username: '[redacted]' });
  const text = output.join('');
  for (const personal of ['Amazon', '52.40', 'camille']) expect(text).not.toContain(personal);
});

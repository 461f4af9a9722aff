import { log } from '@temporalio/workflow';

/** Logs personal data the way a careless workflow could: the worker's logger must redact it. */
export async function logsPersonalData(fileName: string, username: string): Promise<void> {
  log.warn(`export of ${fileName} failed`, { error: `${fileName}: quota exceeded`, username });
}

import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalTarget } from './connect-config.js';

/** The options both connections take, from the resolved target (connect-config.ts). */
export function connectionOptions(target: TemporalTarget, address: string) {
  return {
    address,
    ...(target.tls !== undefined ? { tls: target.tls } : {}),
    ...(target.apiKey ? { apiKey: target.apiKey } : {}),
    ...(target.metadata ? { metadata: target.metadata } : {}),
  };
}

/** The client of the API (and of the sandbox's restore). */
export async function connectClient(target: TemporalTarget, address: string, dataConverter: DataConverter): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(target, address));
  return new Client({ connection, namespace: target.namespace, dataConverter });
}

/** The worker's connection (Rust core). */
export function connectWorker(target: TemporalTarget, address: string): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(target, address));
}

import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { IntegrationView } from './state.js';

/** Messages of the integration workflow. The API sends them; the Temporal UI shows them. */

export interface ReconfigureArgs {
  syncFrom?: string;
  timeZone?: string;
  /** Export Qonto's probative copies too (turned on: the re-import finds the receipts already exported). */
  probativeCopies?: boolean;
}

/** Change the start date, time zone and/or probative copies; everything from the start date is imported again. */
export const reconfigureSignal = defineSignal<[ReconfigureArgs]>('reconfigure');
/** Consent withdrawn: stop at once, delete stored tokens, complete. Exported files stay. */
export const revokeSignal = defineSignal('revoke');
/** The user signed in again after `reconnect_required`: resume with a run at once. */
export const reconnectSignal = defineSignal('reconnect');
/** Run now instead of waiting for the daily time. */
export const syncNowSignal = defineSignal('syncNow');

export interface TransactionChange { transactionId: string; attachmentIds: string[]; receivedAt: string }
export const transactionsChangedSignal = defineSignal<[{ changes: TransactionChange[] }]>('transactionsChanged');

export const statusQuery = defineQuery<IntegrationView>('status');

export const workflowIdFor = (integrationId: string) => `integration-${integrationId}`;

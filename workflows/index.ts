/** Entry point of the workflow bundle: deterministic code only. */
export { integrationWorkflow } from './integration.js';

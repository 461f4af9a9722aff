/** A start-up problem the operator can fix: said in words, without a stack trace. */
export class StartupError extends Error {}

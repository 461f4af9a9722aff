import { zValidator } from '@hono/zod-validator';
import type { Context, ValidationTargets } from 'hono';
import type { z } from 'zod';
import { ApiError } from './errors.js';

type ValidationResult =
  | { success: true }
  | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }; target: keyof ValidationTargets };

/** zod validation failures are 400 `invalid_request` with every problem listed (also the `defaultHook`
 * of the OpenAPI routes). */
export function validationHook(result: ValidationResult, _c?: Context): void {
  if (result.success) return;
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new ApiError(400, 'invalid_request', `Invalid ${result.target}: ${summary}`, issues);
}

/** The same validation for routes outside the OpenAPI app (pages, sign-in callbacks). */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result) => validationHook(result));
}

import { ApplicationFailure } from '@temporalio/activity';
import { expect, it } from 'vitest';
import { toFailure } from '../../activities/failures.js';
import { budgetRefusal } from '../../src/budget/rate-budget.js';

it('turns a rate-budget refusal into a retryable failure whose next retry comes when the slot does', () => {
  const failure = toFailure(budgetRefusal('qonto', 45_000));
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure).toMatchObject({ type: 'Retryable', nonRetryable: false, nextRetryDelay: 45_000 });
  expect((failure as ApplicationFailure).details).toEqual([{ status: 429, code: 'budgetWait' }]);
});

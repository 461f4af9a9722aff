import { describe, expect, it } from 'vitest';
import { isBetweenTasks as check } from '../support/workflow.js';

const isBetweenTasks = (events: object[]) => check(events);

// History events as the client returns them: only the attributes the check reads.
const started = { eventId: 1, workflowExecutionStartedEventAttributes: {} };
const taskScheduled = (id: number) => ({ eventId: id, workflowTaskScheduledEventAttributes: {} });
const taskCompleted = (id: number) => ({ eventId: id, workflowTaskCompletedEventAttributes: {} });
const activityScheduled = (id: number) => ({ eventId: id, activityTaskScheduledEventAttributes: {} });
const activityCompleted = (id: number, scheduledEventId: number) => ({ eventId: id, activityTaskCompletedEventAttributes: { scheduledEventId } });

describe('status reads on the time-skipping server', () => {
  it('waits while a workflow task or an activity is in flight', () => {
    expect(isBetweenTasks([started, taskScheduled(2)])).toBe(false);
    expect(isBetweenTasks([started, taskScheduled(2), taskCompleted(4), activityScheduled(5)])).toBe(false);
    expect(isBetweenTasks([started, taskScheduled(2), taskCompleted(4), activityScheduled(5), activityCompleted(7, 5), taskScheduled(8)])).toBe(false);
  });

  it('reads once the run rests between tasks, or has completed', () => {
    expect(isBetweenTasks([started, taskScheduled(2), taskCompleted(4), activityScheduled(5), activityCompleted(7, 5), taskScheduled(8), taskCompleted(10)])).toBe(true);
    expect(isBetweenTasks([started, taskScheduled(2), taskCompleted(4), { eventId: 5, workflowExecutionCompletedEventAttributes: {} }])).toBe(true);
  });

  it('does not read a run that continued as new: its successor is starting', () => {
    expect(isBetweenTasks([started, taskScheduled(2), taskCompleted(4), { eventId: 5, workflowExecutionContinuedAsNewEventAttributes: {} }])).toBe(false);
  });
});

import { type EventQuery, followEvents } from '../client/event-stream';
import type { AuditAction, AuditEntry, TaskflowClient } from '../client/taskflow-client';

/** The longest a tool waits (`wait_for_task`, `ask_human`): an agent runtime's call should come back. */
export const MAX_WAIT_SECONDS = 300;

/**
 * Changes after which a task may have become claimable by someone: a new or returned task, a
 * dependency done or gone, an edit (priority, capabilities, assignee), a worker's capabilities or
 * a project's members. Claim-next decides; these only say when asking again is worth it.
 */
const MAY_FREE_A_TASK = new Set<AuditAction>([
  'created',
  'updated',
  'released',
  'reopened',
  'unblocked',
  'rejected',
  'assigned',
  'completed',
  'approved',
  'deleted',
  'lease_expired',
  'dependency_removed',
  'worker_updated',
  'member_added',
  'project_updated',
]);

const mayFreeATask = (entry: AuditEntry) => MAY_FREE_A_TASK.has(entry.action);

export interface WaitOptions {
  /** Which events to follow (default: all the caller may read). */
  query?: EventQuery;
  /** Which of them are worth another attempt (default: those that may free a task to claim). */
  wakeOn?: (entry: AuditEntry) => boolean;
  /** Told how long it has waited, every so often, while it waits (not after it returns). */
  progress?: WaitProgress;
}

export interface WaitProgress {
  /** How often to report, in milliseconds. */
  everyMs: number;
  /** The seconds waited so far (more each time) and the whole wait, in seconds. */
  report: (waitedSeconds: number, totalSeconds: number) => void;
}

/**
 * A lease that runs out writes nothing until someone takes the task over, so no event says so:
 * while waiting, the attempt is made again this often as well.
 */
const RECHECK_MS = 10_000;

/**
 * Tries `claim` now; if nothing, follows the event stream and tries again after each change
 * `wakeOn` picks (several arriving at once cost one attempt), until one succeeds or `timeoutMs`
 * has passed. The stream is opened before the second attempt, so a change made between the
 * first attempt and the subscription is not missed.
 */
export async function waitFor<T>(
  api: TaskflowClient,
  claim: () => Promise<T | null>,
  timeoutMs: number,
  { query, wakeOn = mayFreeATask, progress }: WaitOptions = {},
): Promise<T | null> {
  const started = Date.now();
  const first = await claim();
  if (first) return first;
  const deadline = started + timeoutMs;
  const reporting = progress && reportWaiting(progress, started, timeoutMs);
  const stop = new AbortController();
  let wake: (() => void) | undefined;
  let pending = false;
  const nudge = () => {
    pending = true;
    wake?.();
  };
  let failure: Error | undefined;
  const following = followEvents({
    client: () => api,
    query,
    signal: stop.signal,
    onOpen: nudge,
    onEvent: (entry) => {
      if (wakeOn(entry)) nudge();
    },
  }).catch((error: unknown) => {
    failure = error instanceof Error ? error : new Error(`event stream failed: ${String(error)}`);
    wake?.();
  });
  try {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return null;
      if (!pending && failure === undefined) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            () => {
              pending = true;
              resolve();
            },
            Math.min(left, RECHECK_MS),
          );
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      if (failure !== undefined) throw failure;
      if (!pending) continue;
      pending = false;
      if (Date.now() >= deadline) return null;
      const task = await claim();
      if (task) return task;
    }
  } finally {
    // The answer does not wait for the stream to wind down.
    stop.abort();
    void following;
    clearInterval(reporting);
  }
}

/**
 * Reports the seconds waited every `everyMs`, to tenths so that a short interval still reports
 * more each time, and never past the whole wait. The spec wants progress to grow with each
 * notification: a tick that would not report more (the clock set back) is skipped.
 */
function reportWaiting({ everyMs, report }: WaitProgress, started: number, timeoutMs: number) {
  const total = timeoutMs / 1000;
  let last = 0;
  return setInterval(() => {
    const waited = Math.min(Math.floor((Date.now() - started) / 100) / 10, total);
    if (waited <= last) return;
    last = waited;
    report(waited, total);
  }, everyMs);
}

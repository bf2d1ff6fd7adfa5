/** Whether a worker (and so an audit entry's actor) is a person or an agent. */
export const WORKER_TYPES = ['human', 'agent'] as const;
export type WorkerType = (typeof WORKER_TYPES)[number];

export const WORKER_TYPES = ['human', 'agent'] as const;
export type WorkerType = (typeof WORKER_TYPES)[number];

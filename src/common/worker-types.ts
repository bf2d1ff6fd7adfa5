/** Whether a worker is a person or an agent: the types a worker may be registered as. */
export const WORKER_TYPES = ['human', 'agent'] as const;
export type WorkerType = (typeof WORKER_TYPES)[number];

/**
 * Who an audit entry's actor is: a worker's type, or `system` for the API's own work (the
 * sweeper, `SYSTEM_SWEEPER_ID`), which no worker can be registered as. The database enum
 * (`worker_type`) holds all three; the workers table refuses `system` (`chk_workers_type`).
 */
export const ACTOR_TYPES = [...WORKER_TYPES, 'system'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/** The actor the API's sweeper records its changes as (actor type `system`). */
export const SYSTEM_SWEEPER_ID = 'system:sweeper';

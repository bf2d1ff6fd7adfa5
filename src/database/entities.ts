import { Task } from '../tasks/task.entity';

/** Every entity, listed once: the app, the migration CLI and the tests all use this list. */
export const ENTITIES = [Task];

import { ApiParam } from '@nestjs/swagger';
import { MAX_INT32 } from '../limits';
import { WORKER_ID_PATTERN } from '../validation/worker-id';

/** A task id in the path, as `ParseIdPipe` takes it: a positive 32-bit integer (else 422). */
export const ApiTaskIdParam = (name = 'id') =>
  ApiParam({
    name,
    description: 'Task id',
    schema: { type: 'integer', minimum: 1, maximum: MAX_INT32 },
  });

/** `{id}` (or another name) of a worker, as `ParseWorkerIdPipe` takes it (else 422). */
export const ApiWorkerIdParam = (name = 'id') =>
  ApiParam({
    name,
    description: 'Worker id: the JWT `sub`, percent-encoded',
    schema: { type: 'string', minLength: 1, maxLength: 255, pattern: WORKER_ID_PATTERN.source },
  });

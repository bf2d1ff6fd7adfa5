import { Injectable, PipeTransform } from '@nestjs/common';
import { ValidationFailedError } from '../errors/domain-errors';
import { WORKER_ID_RULE, isValidWorkerId } from './worker-id';

/**
 * A worker id in the path: the same rule as the ids tokens and bodies carry, so that every
 * registered worker can be named in a URL.
 */
@Injectable()
export class ParseWorkerIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isValidWorkerId(value))
      throw ValidationFailedError.field('id', `id must be ${WORKER_ID_RULE}`);
    return value;
  }
}

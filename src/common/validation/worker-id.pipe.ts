import { Injectable, PipeTransform } from '@nestjs/common';
import { ValidationFailedError } from '../errors/domain-errors';

/**
 * A worker id (a JWT `sub`) has no control characters, so that every registered worker can be
 * named in a URL path: the body (`POST /api/workers`) and the path (`/api/workers/{id}`) refuse
 * the same ids.
 */
// eslint-disable-next-line no-control-regex
export const WORKER_ID_PATTERN = /^[^\u0000-\u001f]*$/;

/** A worker id in the path: a JWT `sub`, 1–255 characters without control characters. */
@Injectable()
export class ParseWorkerIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if ([...value].length > 255 || value.length === 0 || !WORKER_ID_PATTERN.test(value)) {
      throw ValidationFailedError.field(
        'id',
        'id must be 1 to 255 characters without control characters',
      );
    }
    return value;
  }
}

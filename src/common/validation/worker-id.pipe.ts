import { Injectable, PipeTransform } from '@nestjs/common';
import { ValidationFailedError } from '../errors/domain-errors';

/** A worker id in the path: a JWT `sub`, 1–255 characters without control characters. */
@Injectable()
export class ParseWorkerIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    // eslint-disable-next-line no-control-regex
    if ([...value].length > 255 || value.length === 0 || /[\u0000-\u001f]/.test(value)) {
      throw ValidationFailedError.field(
        'id',
        'id must be 1 to 255 characters without control characters',
      );
    }
    return value;
  }
}

import { PipeTransform } from '@nestjs/common';
import { ValidationFailedError } from '../errors/domain-errors';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID in the path (`field` names it in the 422), lower-cased: anything else is refused here,
 * never a 500 from the uuid column. An instance per parameter: `new ParseUuidPipe('key_id')`.
 */
export class ParseUuidPipe implements PipeTransform<string, string> {
  constructor(private readonly field: string) {}

  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) {
      throw ValidationFailedError.field(this.field, `${this.field} must be a UUID`);
    }
    return value.toLowerCase();
  }
}

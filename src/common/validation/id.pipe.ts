import { Injectable, Optional, PipeTransform } from '@nestjs/common';
import { ValidationFailedError } from '../errors/domain-errors';
import { MAX_INT32 } from '../limits';

/** A path id: a positive 32-bit integer written in plain digits, else 422 (never a 500 from SQL). */
@Injectable()
export class ParseIdPipe implements PipeTransform<string, number> {
  constructor(@Optional() private readonly name: string = 'id') {}

  transform(value: string): number {
    const id = /^\d{1,10}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(id) || id < 1 || id > MAX_INT32) {
      throw ValidationFailedError.field(this.name, `${this.name} must be a positive integer`);
    }
    return id;
  }
}

import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { ValidationFailedError } from '../common/errors/domain-errors';

/** What a project slug may be: lower-case letters, digits and hyphens, 1 to 100 of them. */
export const PROJECT_SLUG_PATTERN = /^[a-z0-9-]{1,100}$/;
export const PROJECT_SLUG_RULE = '1 to 100 lower-case letters, digits or hyphens';

/** `{slug}` in the path: a malformed slug is a 422, as a malformed task id is. */
@Injectable()
export class ParseProjectSlugPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!PROJECT_SLUG_PATTERN.test(value))
      throw ValidationFailedError.field('slug', `slug must be ${PROJECT_SLUG_RULE}`);
    return value;
  }
}

export const ApiProjectSlugParam = () =>
  ApiParam({
    name: 'slug',
    description: 'Project slug',
    schema: { type: 'string', minLength: 1, maxLength: 100, pattern: PROJECT_SLUG_PATTERN.source },
  });

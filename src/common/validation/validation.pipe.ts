import { ArgumentMetadata, Injectable, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, ValidationFailedError } from '../errors/domain-errors';

/** Fields the server owns: sending them is a 422 that says so, never a silent overwrite. */
const SERVER_OWNED = new Set(['id', 'created_by', 'created_at', 'updated_at']);

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.entries(error.constraints ?? {}).map(([constraint, message]) => {
      if (constraint === 'whitelistValidation') {
        return {
          field,
          message: SERVER_OWNED.has(error.property)
            ? `${field} is server-owned and cannot be set`
            : `${field} is not a known field`,
        };
      }
      return { field, message };
    });
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * The global pipe (registered once as APP_PIPE): strict whitelisting, no implicit type coercion
 * of JSON bodies (a typed client sends numbers as numbers), and the contract's 422 with
 * `details`. Query DTOs opt into string-to-number conversion field by field with `@Type`.
 */
@Injectable()
export class StrictValidationPipe extends ValidationPipe {
  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new ValidationFailedError(flatten(errors)),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (
      metadata.type === 'body' &&
      metadata.metatype &&
      this.toValidate(metadata) &&
      value !== undefined &&
      (value === null || typeof value !== 'object' || Array.isArray(value))
    ) {
      throw ValidationFailedError.field('body', 'body must be a JSON object');
    }
    return super.transform(value, metadata);
  }

  /**
   * Leaves single path and query parameters as the strings they arrived as: the route's own pipe
   * (`ParseIdPipe`) parses them strictly. The default would turn "1e9" into 1000000000 first.
   */
  protected override transformPrimitive(value: unknown): unknown {
    return value;
  }
}

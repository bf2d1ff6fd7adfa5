import { Transform } from 'class-transformer';
import {
  Matches,
  ValidateIf,
  ValidationArguments,
  ValidationOptions,
  registerDecorator,
} from 'class-validator';
import { USD_AMOUNT_PATTERN } from '../limits';

// Each Transform takes `value` as `unknown`: class-transformer types raw input as `any`.

/**
 * Optional, but never null: `undefined` skips validation, `null` is validated (and fails).
 * class-validator's own `@IsOptional()` lets null through, which is right only for nullable fields.
 */
export function IsOptionalNotNull(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}

/** Swagger UI and HTML forms send `""` for an empty field: it means null. */
export function EmptyStringToNull(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (value === '' ? null : value));
}

/**
 * Text as PostgreSQL stores it: a string whose length in code points (what `varchar(n)` and
 * `char_length` count) is within bounds, without NUL, which PostgreSQL text cannot hold.
 * validator.js' isLength counts differently (it discounts variation selectors), so a string it
 * accepts could still overflow the column.
 */
export function IsText(
  bounds: { min?: number; max: number; nonBlank?: boolean },
  options?: ValidationOptions,
): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isText',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate(value: unknown): boolean {
          if (typeof value !== 'string' || value.includes('\u0000')) return false;
          const length = [...value].length;
          if (bounds.nonBlank && value.trim().length === 0) return false;
          return length >= (bounds.min ?? 0) && length <= bounds.max;
        },
        defaultMessage(args: ValidationArguments): string {
          const min = bounds.min ?? 0;
          const range = min > 0 ? `${min} to ${bounds.max}` : `at most ${bounds.max}`;
          const blank = bounds.nonBlank ? ', not blank' : '';
          return `${args.property} must be a string of ${range} characters${blank}, without NUL`;
        },
      },
    });
  };
}

/**
 * Query strings arrive as text. Only a plain decimal integer becomes a number; anything else
 * ("1e3", "0x10", "", a repeated key that arrived as an array) stays as it is and fails `@IsInt`.
 */
export function ToInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value,
  );
}

/** `true`/`false` in a query string. */
export function ToBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  );
}

/**
 * An ISO 8601 timestamp, any offset, normalised to a `Date` (stored as UTC). A timestamp without
 * an offset is read as UTC rather than the server's local zone; a date alone is midnight UTC.
 * Anything else is left as it came, for `@IsValidDate()` to reject.
 */
export function ToUtcDate(): PropertyDecorator {
  const iso =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;
  return Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') return value;
    const match = iso.exec(value.trim());
    if (!match) return value;
    const hasTime = match[4] !== undefined;
    const hasOffset = match[7] !== undefined;
    let text = value.trim().replace(' ', 'T');
    if (hasTime && !hasOffset) text += 'Z';
    if (hasOffset && /^[+-]\d{2}$/.test(match[7])) text += ':00';
    const date = new Date(text);
    // Reject rollovers such as 2026-02-30, which Date would silently turn into March 2nd.
    if (Number.isNaN(date.getTime())) return value;
    const [, y, m, d] = match;
    const probe = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    if (probe.getUTCMonth() !== Number(m) - 1 || probe.getUTCDate() !== Number(d)) return value;
    return date;
  });
}

export function IsValidDate(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) => {
    registerDecorator({
      name: 'isValidDate',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate(value: unknown): boolean {
          if (!(value instanceof Date) || Number.isNaN(value.getTime())) return false;
          const year = value.getUTCFullYear();
          return year >= 1 && year <= 9999;
        },
        defaultMessage(args: ValidationArguments): string {
          return `${args.property} must be an ISO 8601 timestamp such as 2026-12-01T17:00:00Z`;
        },
      },
    });
  };
}

/**
 * A list in the query string: repeat the key (`?tag=a&tag=b`) or separate with commas
 * (`?tag=a,b`); blanks are dropped. Anything else is left for the validators to refuse.
 */
export function ToStringList(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' || Array.isArray(value)
      ? ([] as unknown[])
          .concat(value)
          .flatMap((item) => (typeof item === 'string' ? item.split(',') : [item]))
          .map((item) => (typeof item === 'string' ? item.trim() : item))
          .filter((item) => item !== '')
      : value,
  );
}

/**
 * An exact amount of dollars (`USD_AMOUNT_PATTERN`), as a string. A JSON number is accepted too
 * and read as the text JavaScript prints for it (`0.25` → `"0.25"`); one it prints in exponent
 * form (`1e-7`) is refused rather than rounded.
 */
export function IsUsdAmount(options?: ValidationOptions): PropertyDecorator {
  const transform = Transform(({ value }: { value: unknown }) =>
    typeof value === 'number' && Number.isFinite(value) ? String(value) : value,
  );
  const check = Matches(USD_AMOUNT_PATTERN, {
    message: ({ property }) =>
      `${property} must be a decimal amount of dollars ≥ 0 with at most 8 digits before the point and 6 after, e.g. "0.0123"`,
    ...options,
  });
  return (target, propertyName) => {
    transform(target, propertyName);
    check(target, propertyName);
  };
}

import type { Type } from '@nestjs/common';
import { DECORATORS, PartialType } from '@nestjs/swagger';

/**
 * The body of a PATCH: `PartialType` (every field optional; a field that is sent is validated as
 * on create, so `null` is accepted only where the field is nullable), minus the create schema's
 * `default`s. A default in a PATCH schema is a lie (an absent field is left as it is, not reset)
 * that tools act on: a form library or a generated zod schema fills it in and resets the field.
 */
export function PatchType<T>(classRef: Type<T>): Type<Partial<T>> {
  const patch = PartialType(classRef, { skipNullProperties: false });
  const prototype = patch.prototype as object;
  const keys = (Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES_ARRAY, prototype) ??
    []) as string[];
  for (const key of keys.map((k) => k.replace(/^:/, ''))) {
    const metadata = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, prototype, key) as
      Record<string, unknown> | undefined;
    if (!metadata || !('default' in metadata)) continue;
    const { default: _default, ...withoutDefault } = metadata;
    Reflect.defineMetadata(DECORATORS.API_MODEL_PROPERTIES, withoutDefault, prototype, key);
  }
  return patch;
}

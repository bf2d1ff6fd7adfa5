/** The answer classes' secret properties, by prototype (a subclass adds to its parent's). */
const SECRET_FIELDS = new WeakMap<object, readonly string[]>();

/**
 * Marks a property of an answer class as a secret: answered once, to the request that made it
 * (a webhook's signing secret, later an API key). An `Idempotency-Key` stores the answer without
 * it, so the secret never lies in `idempotency_keys` and a replay never shows it again. It takes
 * an instance of the class to be seen: the service builds its answer with `new`.
 */
export function SecretField(): PropertyDecorator {
  return (prototype, property) => {
    SECRET_FIELDS.set(prototype, [...secretFieldsOf(prototype), String(property)]);
  };
}

function secretFieldsOf(value: object): readonly string[] {
  for (let p: object | null = value; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const fields = SECRET_FIELDS.get(p);
    if (fields) return fields;
  }
  return [];
}

/**
 * `value` as JSON will write it, less every secret property of every answer object in it (in
 * arrays and nested objects too): what may be stored and replayed.
 */
export function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object') return value;
  // Dates and the like write themselves (toJSON); an answer class never defines it.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  const secret = secretFieldsOf(value);
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (!secret.includes(key)) kept[key] = withoutSecrets(field);
  }
  return kept;
}

/** Each changed field, with its value before and after (the context of an `…_updated` entry). */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What a PATCH changes: the `fields` of `sent` that are present and differ from `current`, as
 * `changes` (for the audit entry) and as `values` (for the repository). Both are empty when the
 * PATCH changes nothing.
 */
export function fieldChanges<T extends object, K extends keyof T>(
  current: T,
  sent: Partial<Pick<T, K>>,
  fields: readonly K[],
): { changes: FieldChanges; values: Partial<Pick<T, K>> } {
  const changes: FieldChanges = {};
  const values: Partial<Pick<T, K>> = {};
  for (const field of fields) {
    const next = sent[field];
    if (next !== undefined && !same(current[field], next)) {
      changes[field as string] = { from: current[field], to: next };
      values[field] = next;
    }
  }
  return { changes, values };
}

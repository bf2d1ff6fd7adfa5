import type { EntityManager } from 'typeorm';

/**
 * The rows of a raw statement. TypeORM's `query()` answers an UPDATE or DELETE (even one with
 * RETURNING) with `[rows, affectedCount]` but a SELECT or INSERT with the rows alone; this
 * takes the rows out either way.
 */
export async function queryRows<T>(
  manager: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const result: unknown = await manager.query(sql, params);
  if (
    Array.isArray(result) &&
    result.length === 2 &&
    Array.isArray(result[0]) &&
    typeof result[1] === 'number'
  ) {
    return result[0] as T[];
  }
  return result as T[];
}

/**
 * A WHERE clause built from optional filters: every value becomes a numbered parameter, never
 * SQL text, and a filter left undefined adds nothing.
 */
export class Conditions {
  readonly params: unknown[] = [];
  private readonly clauses: string[] = [];

  /** `condition` receives the placeholder (`$n`) of `value`. */
  add(condition: (param: string) => string, value: unknown): this {
    if (value === undefined) return this;
    this.params.push(value);
    this.clauses.push(condition(`$${this.params.length}`));
    return this;
  }

  /** A condition that takes no parameter. */
  raw(condition: string): this {
    this.clauses.push(condition);
    return this;
  }

  /** A parameter for use outside the WHERE clause (LIMIT, OFFSET). */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  get sql(): string {
    return this.clauses.length ? ` WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

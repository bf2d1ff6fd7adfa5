/**
 * JSON text that `JSON.stringify` cannot write: `-0`, `1e400` (Infinity once parsed), `100.0`,
 * a key that appears twice, nesting thousands of levels deep. A generated body is a tree of plain
 * values in which such pieces are `RawJson` leaves, written out verbatim.
 */
export class RawJson {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text.length > 80
      ? `${this.text.slice(0, 60)}…(${this.text.length} chars)`
      : this.text;
  }
}

export const raw = (text: string): RawJson => new RawJson(text);

/** An object whose entries are written in order, repeated keys included. */
export class JsonEntries {
  constructor(readonly entries: [string, unknown][]) {}
}

/** A JSON value padded with whitespace to exactly `size` bytes of text. */
export class Padded {
  constructor(
    readonly value: unknown,
    readonly size: number,
  ) {}
}

/**
 * Writes the tree as JSON text. `leaf` replaces the leaves it knows (the fuzzer's references to
 * existing resources) before they are written.
 */
export function toJsonText(value: unknown, leaf: (v: unknown) => unknown = (v) => v): string {
  const write = (v: unknown): string => toJsonText(v, leaf);
  value = leaf(value);
  if (value instanceof RawJson) return value.text;
  if (value instanceof Padded) {
    const text = write(value.value);
    return `${text}${' '.repeat(Math.max(0, value.size - Buffer.byteLength(text)))}`;
  }
  if (value instanceof JsonEntries) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${write(v)}`)
      .join(',')}}`;
  }
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

/** `depth` nested arrays or objects: what a recursive validator or transformer chokes on. */
export function deeplyNested(depth: number, kind: 'array' | 'object'): RawJson {
  return kind === 'array'
    ? raw(`${'['.repeat(depth)}${']'.repeat(depth)}`)
    : raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

/**
 * Whether Fastify's JSON parser (secure-json-parse, `onProtoPoisoning` and
 * `onConstructorPoisoning` set to `error`) refuses a parsed value: an own `__proto__` key, or a
 * `constructor` key holding an object with a `prototype` key. Iterative: values can be deep.
 */
export function isPoisoned(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(node, '__proto__')) return true;
    const ctor = (node as Record<string, unknown>).constructor;
    if (
      Object.prototype.hasOwnProperty.call(node, 'constructor') &&
      ctor !== null &&
      typeof ctor === 'object' &&
      Object.prototype.hasOwnProperty.call(ctor, 'prototype')
    ) {
      return true;
    }
    for (const child of Object.values(node)) stack.push(child);
  }
  return false;
}

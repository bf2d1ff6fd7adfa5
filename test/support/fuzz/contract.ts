import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';

/** An OpenAPI 3.0 schema object, as the committed document spells it. */
export type Schema = { [keyword: string]: any };

export interface Parameter {
  name: string;
  in: 'path' | 'query';
  required: boolean;
  schema: Schema;
}

export interface DocumentedResponse {
  /** The JSON body's schema; none for a response without content (204). */
  schema?: Schema;
  /** By lower-case name; `required` ones must be sent, the others are checked when they are. */
  headers: Record<string, { schema: Schema; required: boolean }>;
  /** A Server-Sent Events stream (`text/event-stream`): open until the client leaves. */
  streams: boolean;
}

export interface Operation {
  /** `Tasks_findOne`: the name a test is filtered by (`-t Tasks_findOne`). */
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** As documented, e.g. `/api/tasks/{id}`. */
  path: string;
  summary: string;
  parameters: Parameter[];
  body?: { required: boolean; schema: Schema };
  responses: Map<number, DocumentedResponse>;
  /** Needs a bearer token (every route but the health checks). */
  secured: boolean;
}

/** `"openapi.json#/components/schemas/Task"` → the ajv reference of the same schema. */
const REF_PREFIX = '#/components/schemas/';
const CONTRACT_ID = 'contract';
const refTo = (name: string): string => `${CONTRACT_ID}#/definitions/${name}`;

/** OpenAPI 3.0 keywords that JSON Schema does not know, or that only annotate. */
const ANNOTATIONS = new Set(['example', 'xml', 'externalDocs', 'discriminator', 'deprecated']);

/**
 * OpenAPI 3.0 → JSON Schema (draft 7, as ajv reads it): `nullable: true` becomes a `null` type
 * (or an `anyOf` with null around a `$ref`/`allOf`, which carry no `type`), `$ref`s point into one
 * registered document, annotations go. Objects that declare `properties` but say nothing about
 * `additionalProperties` are closed: the contract refuses unknown body fields, and a response
 * field nobody documented is exactly what a leak looks like.
 */
export function toJsonSchema(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item as Schema));
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword) || keyword === 'nullable') continue;
    if (keyword === '$ref' && typeof value === 'string' && value.startsWith(REF_PREFIX)) {
      out.$ref = refTo(value.slice(REF_PREFIX.length));
    } else if (keyword === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Schema>).map(([k, v]) => [k, toJsonSchema(v)]),
      );
    } else if (value !== null && typeof value === 'object') {
      out[keyword] = toJsonSchema(value as Schema);
    } else {
      out[keyword] = value;
    }
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  if (schema.nullable === true) {
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
    } else {
      return { anyOf: [out, { type: 'null' }] };
    }
  }
  return out;
}

export class Contract {
  readonly operations: Operation[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<Schema, ValidateFunction>();

  constructor(readonly document: Schema) {
    this.ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: false });
    addFormats(this.ajv);
    const schemas = (document.components?.schemas ?? {}) as Record<string, Schema>;
    this.ajv.addSchema(
      {
        $id: CONTRACT_ID,
        definitions: Object.fromEntries(
          Object.entries(schemas).map(([name, s]) => [name, toJsonSchema(s)]),
        ),
      },
      CONTRACT_ID,
    );
    this.operations = this.readOperations();
  }

  static load(path: string): Contract {
    return new Contract(JSON.parse(readFileSync(path, 'utf8')) as Schema);
  }

  /** Follows a `$ref` (and a single-element `allOf`, Nest's way of referring to an enum). */
  resolve(schema: Schema): Schema {
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.slice(REF_PREFIX.length);
      const { $ref: _ref, ...rest } = schema;
      return { ...this.resolve(this.document.components.schemas[name] as Schema), ...rest };
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length === 1) {
      const { allOf, ...rest } = schema;
      return { ...this.resolve(allOf[0] as Schema), ...rest };
    }
    return schema;
  }

  /** Validates a value against an OpenAPI schema of the document; returns the errors or null. */
  validate(schema: Schema, value: unknown): string | null {
    let validator = this.validators.get(schema);
    if (!validator) {
      validator = this.ajv.compile(toJsonSchema(schema));
      this.validators.set(schema, validator);
    }
    if (validator(value)) return null;
    return this.ajv.errorsText(validator.errors, { dataVar: 'value' });
  }

  private readOperations(): Operation[] {
    const operations: Operation[] = [];
    const paths = this.document.paths as Record<string, Record<string, Schema>>;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        const responses = new Map<number, DocumentedResponse>();
        for (const [status, response] of Object.entries(op.responses as Record<string, Schema>)) {
          responses.set(Number(status), {
            schema: response.content?.['application/json']?.schema as Schema | undefined,
            streams: response.content?.['text/event-stream'] !== undefined,
            headers: Object.fromEntries(
              Object.entries((response.headers ?? {}) as Record<string, Schema>).map(([k, v]) => [
                k.toLowerCase(),
                { schema: v.schema as Schema, required: v.required === true },
              ]),
            ),
          });
        }
        const body = op.requestBody as Schema | undefined;
        operations.push({
          id: String(op.operationId),
          method: method.toUpperCase() as Operation['method'],
          path,
          summary: String(op.summary ?? ''),
          parameters: ((op.parameters ?? []) as Schema[]).map((p) => ({
            name: String(p.name),
            in: p.in as Parameter['in'],
            required: p.required === true,
            schema: p.schema as Schema,
          })),
          body: body
            ? {
                required: body.required === true,
                schema: body.content['application/json'].schema as Schema,
              }
            : undefined,
          responses,
          // Bearer auth is the document's default; a public route opts out with `security: []`.
          secured: ((op.security ?? this.document.security ?? []) as unknown[]).length > 0,
        });
      }
    }
    return operations;
  }
}

import type { OpenAPIObject, ReferenceObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import fastJsonStringify from 'fast-json-stringify';
import { isDeepStrictEqual } from 'node:util';
import { operationsOf } from './openapi';

type Json = Record<string, unknown>;

/**
 * Compiled serializers for the JSON answers, from the OpenAPI document itself.
 *
 * Fastify serialises an answer with fast-json-stringify when its route declares a response
 * schema: code generated for that shape, about three times faster than `JSON.stringify` on a page
 * of tasks. The schemas are taken from the document built from the DTOs (`buildOpenApiDocument`),
 * the very object served at `/openapi.json`, so an answer's serializer and its published schema
 * cannot drift apart.
 *
 * Only what fast-json-stringify reproduces exactly is compiled: the 2xx `application/json`
 * answers whose schema, refs resolved, has no `oneOf`/`anyOf` (the audit entries' per-action
 * union keeps `JSON.stringify`: choosing a branch per value would cost more than it saves). A
 * compiled serializer writes only the properties the schema declares and coerces types, so a
 * handler that returned a field the contract lacks would lose it silently; outside production
 * every compiled answer is therefore compared with `JSON.stringify`'s, and any difference is a
 * 500 naming the route (the whole test suite runs that way).
 */
export function compileResponseSerializers(
  fastify: FastifyInstance,
  document: OpenAPIObject,
  options: { verify: boolean },
): void {
  const schemas = responseSchemas(document);
  fastify.addHook('onRoute', (route) => {
    if (route.schema?.response) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const response = methods
      .map((method) => schemas.get(`${method.toUpperCase()} ${route.url}`))
      .find((found) => found !== undefined);
    if (response) route.schema = { ...route.schema, response };
  });
  fastify.setSerializerCompiler(({ schema, method, url, httpStatus }) => {
    const compiled: (data: unknown) => string = fastJsonStringify(schema as Json);
    if (!options.verify) return compiled;
    return (data: unknown) => {
      const fast = compiled(data);
      const reference = JSON.stringify(data) as string | undefined;
      const expected: unknown = reference === undefined ? undefined : JSON.parse(reference);
      if (!isDeepStrictEqual(JSON.parse(fast), expected)) {
        throw new Error(
          `compiled serializer of ${method} ${url} ${httpStatus} differs from JSON.stringify: ` +
            `${fast.slice(0, 300)} vs ${String(reference).slice(0, 300)}`,
        );
      }
      return fast;
    };
  });
}

/** `METHOD /fastify/:path` → status → JSON schema, for every answer worth compiling. */
export function responseSchemas(document: OpenAPIObject): Map<string, Record<string, Json>> {
  const components = (document.components?.schemas ?? {}) as Record<string, SchemaObject>;
  const byRoute = new Map<string, Record<string, Json>>();
  for (const [method, path, operation] of operationsOf(document)) {
    const compiled: Record<string, Json> = {};
    for (const [status, answer] of Object.entries(operation.responses ?? {})) {
      const schema = (answer as ResponseObject).content?.['application/json']?.schema;
      if (!/^2\d\d$/.test(status) || !schema) continue;
      const resolved = resolve(schema, components, new Set());
      if (resolved) compiled[status] = resolved;
    }
    if (Object.keys(compiled).length > 0) {
      byRoute.set(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`, compiled);
    }
  }
  return byRoute;
}

/**
 * The schema with every `$ref` inlined and a lone `allOf` folded into its parent; keywords that
 * only document (`example`, `description`) are left out. Undefined for a schema not worth
 * compiling: a union (`oneOf`/`anyOf`) anywhere in it, or recursion.
 */
function resolve(
  schema: SchemaObject | ReferenceObject,
  components: Record<string, SchemaObject>,
  seen: Set<string>,
): Json | undefined {
  if ('$ref' in schema) {
    const name = schema.$ref.split('/').pop()!;
    if (seen.has(name)) return undefined;
    return resolve(components[name], components, new Set([...seen, name]));
  }
  if ('oneOf' in schema || 'anyOf' in schema) return undefined;
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'example' || key === 'examples' || key === 'description') continue;
    if (key === 'allOf' && Array.isArray(value) && value.length === 1) {
      const inner = resolve(value[0] as SchemaObject, components, seen);
      if (!inner) return undefined;
      Object.assign(out, inner);
    } else if (key === 'properties' || key === 'patternProperties') {
      const properties: Json = {};
      for (const [name, property] of Object.entries(value as Record<string, SchemaObject>)) {
        const inner = resolve(property, components, seen);
        if (!inner) return undefined;
        properties[name] = inner;
      }
      out[key] = properties;
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object') {
      const inner = resolve(value as SchemaObject, components, seen);
      if (!inner) return undefined;
      out[key] = inner;
    } else if (key === 'allOf' && Array.isArray(value)) {
      const inner = value.map((v) => resolve(v as SchemaObject, components, seen));
      if (inner.some((v) => v === undefined)) return undefined;
      out[key] = inner;
    } else {
      out[key] = value;
    }
  }
  // A free-form object (no declared properties) is passed through whole, not emptied.
  if (out.type === 'object' && !out.properties && out.additionalProperties === undefined) {
    out.additionalProperties = true;
  }
  return out;
}

import Fastify from 'fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileResponseSerializers, responseSchemas } from './response-serializers';

const committed = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8'),
) as OpenAPIObject;

/** A one-route document: GET /thing/{id} answers `{ id: integer, name: string | null }`. */
const tiny: OpenAPIObject = {
  openapi: '3.0.0',
  info: { title: 't', version: '1' },
  paths: {
    '/thing/{id}': {
      get: {
        responses: {
          '200': {
            description: 'ok',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
          },
        },
      },
    },
  },
  components: {
    schemas: {
      Thing: {
        type: 'object',
        properties: { id: { type: 'integer' }, name: { type: 'string', nullable: true } },
        required: ['id', 'name'],
      },
    },
  },
};

async function serve(verify: boolean, answer: unknown) {
  const fastify = Fastify();
  compileResponseSerializers(fastify, tiny, { verify });
  fastify.get('/thing/:id', () => Promise.resolve(answer));
  const res = await fastify.inject({ method: 'GET', url: '/thing/1' });
  await fastify.close();
  return res;
}

describe('compiled response serializers', () => {
  it('cover the hot task routes and leave the audit union to JSON.stringify', () => {
    const routes = [...responseSchemas(committed).keys()];
    for (const route of [
      'GET /api/tasks',
      'GET /api/tasks/:id',
      'POST /api/tasks',
      'PATCH /api/tasks/:id',
      'POST /api/tasks/:id/progress',
      'POST /api/tasks/claim-next',
      'GET /api/projects',
      'GET /api/me',
    ]) {
      expect(routes).toContain(route);
    }
    for (const route of ['GET /api/audit', 'GET /api/tasks/:id/audit', 'GET /api/events']) {
      expect(routes).not.toContain(route);
    }
    expect(responseSchemas(committed).get('GET /api/tasks')?.['200']).toMatchObject({
      type: 'array',
      items: { type: 'object', properties: { status: { enum: expect.any(Array) } } },
    });
  });

  it('write what JSON.stringify writes for an answer that matches the contract', async () => {
    for (const answer of [
      { id: 7, name: 'x' },
      { id: 7, name: null },
    ]) {
      const res = await serve(true, answer);
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(JSON.stringify(answer));
    }
  });

  it('outside production, refuse (500) an answer the compiled serializer would change', async () => {
    const extra = await serve(true, { id: 7, name: 'x', secret: 'not in the contract' });
    expect(extra.statusCode).toBe(500);
    const coerced = await serve(true, { id: '7', name: 'x' });
    expect(coerced.statusCode).toBe(500);
  });

  it('in production, write only what the contract declares', async () => {
    const res = await serve(false, { id: 7, name: 'x', secret: 'not in the contract' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: 7, name: 'x' });
  });
});

import helmet from '@fastify/helmet';
import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import {
  frameworkErrorEnvelope,
  writeClientErrorEnvelope,
} from './common/errors/error-envelope.filter';
import type { AppConfig } from './config/config';
import { EventFeed } from './events/event-feed';
import { refuseContentEncoding } from './http/content-encoding';
import { HELMET_OPTIONS } from './http/security-headers';
import { createRootLogger, logRequest, requestId } from './logging/logger';
import { Metrics } from './metrics/metrics';
import { sendTaskETag } from './tasks/task-etag';
import { buildOpenApiDocument } from './openapi/openapi';
import { compileResponseSerializers } from './openapi/response-serializers';

export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The router's limit on a decoded path parameter, in UTF-16 code units: a worker id (a JWT `sub`)
 * may be 255 code points, which is up to 510 units when every one is outside the BMP (emoji).
 */
const MAX_PATH_PARAM_LENGTH = 2 * 255;

/**
 * CORS for a browser frontend on another origin (`ALLOWED_ORIGINS`): the methods it calls, the
 * request headers it sends (a preflight refuses any other), and the response headers it may
 * read (the browser hides the rest from scripts). The preflight is cached for 10 minutes.
 */
const CORS = {
  methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
  allowedHeaders: [
    'Authorization',
    'Content-Type',
    'Idempotency-Key',
    'If-Match',
    'If-None-Match',
    'X-TaskFlow-Client',
  ],
  exposedHeaders: [
    'ETag',
    'X-Total-Count',
    'X-Total-Count-Estimated',
    'Link',
    'X-Request-Id',
    'Retry-After',
    'Idempotent-Replayed',
  ],
  maxAge: 600,
};

/**
 * Builds the configured application without listening: `main.ts` listens on it, and the tests
 * drive exactly this through supertest.
 */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    // Only behind a proxy may X-Forwarded-For name the client (rate limiting keys on it).
    trustProxy: config.trustProxy,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // While draining on SIGTERM, a request that arrives on an already open keep-alive connection
    // is served like any other (Fastify's default 503 would bypass the error envelope); idle
    // connections are closed meanwhile (graceful-shutdown.ts), so the drain stays short.
    return503OnClosing: false,
    genReqId: requestId,
    clientErrorHandler: writeClientErrorEnvelope,
    // Paths the router refuses before Nest runs: the envelope all the same (see the filter).
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const body = frameworkErrorEnvelope(error);
      if (body.status_code >= 500) {
        new NestLogger('ErrorEnvelope').error(
          { err: error, req_id: request.id },
          'Unhandled error',
        );
      }
      void reply.header('X-Request-Id', request.id).code(body.status_code).send(body);
    },
  });
  adapter.getInstance().addHook('preSerialization', sendTaskETag);
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  const logger = createRootLogger(config);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, logger),
    adapter,
    {
      // Fastify's own parsers only: JSON in, everything else is a 400 (no form or text bodies).
      bodyParser: false,
      bufferLogs: true,
      abortOnError: false,
    },
  );
  app.useLogger(app.get(Logger));
  // Before any route is added (Swagger's below, the controllers' at init), so all get the headers.
  await app.register(helmet, HELMET_OPTIONS);
  adapter.getInstance().addHook('onRequest', refuseContentEncoding);
  configureJsonParsing(app);
  const metrics = app.get(Metrics);
  adapter.getInstance().addHook('onResponse', (request, reply, done) => {
    logRequest(logger, request, reply);
    metrics.observe(
      request.method,
      request.routeOptions.url,
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  // Event streams never finish on their own: they are ended before the server closes (SIGTERM,
  // app.close()), or closing would wait on them; clients resume on another replica.
  const feed = app.get(EventFeed);
  adapter.getInstance().addHook('preClose', (done) => {
    feed.closeAll();
    done();
  });
  app.enableCors({ ...CORS, origin: config.allowedOrigins, credentials: true });

  const document = buildOpenApiDocument(app, config.version);
  // Before app.init() registers the routes, which is when each gets its response schemas.
  compileResponseSerializers(adapter.getInstance(), document, {
    verify: config.nodeEnv !== 'production',
  });
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'TaskFlow API',
    swaggerOptions: { persistAuthorization: true, displayRequestDuration: true },
  });

  return app;
}

/**
 * Only `application/json` bodies are parsed. An empty body with that content type counts as no
 * body (many HTTP clients send the header on every POST), rather than the parser's 400.
 */
function configureJsonParsing(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    (request, body, done) => {
      const text = body.toString();
      if (text.trim() === '') {
        done(null, undefined);
        return;
      }
      void parseJson(request, text, done);
    },
  );
}

import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, ModulesContainer, Reflector } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export interface RouteInfo {
  method: string;
  /** As declared, e.g. `/api/tasks/:id`. */
  path: string;
  handler: (...args: unknown[]) => unknown;
  controller: new (...args: never[]) => unknown;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * Every route the app's controllers declare. Nest keeps a route's path and method in metadata it
 * does not export, so they are read through @nestjs/swagger's explorer, whose operation ids are
 * made to name the controller and method; each route must also be in Fastify's router.
 */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const document = SwaggerModule.createDocument(app, new DocumentBuilder().build(), {
    operationIdFactory: (controllerKey, methodKey) => `${controllerKey}.${methodKey}`,
  });
  const controllers = new Map<string, RouteInfo['controller']>(
    new DiscoveryService(app.get(ModulesContainer))
      .getControllers()
      .flatMap((wrapper) =>
        wrapper.metatype
          ? [[wrapper.metatype.name, wrapper.metatype as RouteInfo['controller']] as const]
          : [],
      ),
  );
  const router = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  const routes: RouteInfo[] = [];
  for (const [openApiPath, item] of Object.entries(document.paths)) {
    const path = openApiPath.replace(/\{([^}]+)\}/g, ':$1');
    for (const key of HTTP_METHODS) {
      const operationId = (item as Record<string, { operationId?: string } | undefined>)[key]
        ?.operationId;
      if (!operationId) continue;
      const [controllerName, methodName] = operationId.split('.');
      const controller = controllers.get(controllerName)!;
      const handler = (controller.prototype as Record<string, RouteInfo['handler']>)[methodName];
      const method = key.toUpperCase();
      if (!router.hasRoute({ method, url: path })) {
        throw new Error(`${method} ${path} is documented but not routed`);
      }
      routes.push({ method, path, handler, controller });
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

export function metadataOf<T>(app: INestApplication, key: string, route: RouteInfo): T | undefined {
  return app.get(Reflector).getAllAndOverride<T>(key, [route.handler, route.controller]);
}

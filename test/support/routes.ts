import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';

export interface RouteInfo {
  method: string;
  /** As declared, e.g. `/api/tasks/:id`. */
  path: string;
  handler: (...args: unknown[]) => unknown;
  controller: new (...args: never[]) => unknown;
}

const join = (...parts: (string | undefined)[]) =>
  `/${parts
    .flatMap((p) => (p ?? '').split('/'))
    .filter(Boolean)
    .join('/')}`;

/** Every route the app's controllers declare, read from Nest's own metadata. */
export function listRoutes(app: INestApplication): RouteInfo[] {
  const discovery = new DiscoveryService(app.get(ModulesContainer));
  const scanner = new MetadataScanner();
  const routes: RouteInfo[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as RouteInfo['controller'] | undefined;
    if (!controller) continue;
    const prefix = Reflect.getMetadata(PATH_METADATA, controller) as string | undefined;
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, RouteInfo['handler']>)[name];
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) continue;
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as number];
      routes.push({ method, path: join(prefix, path), handler, controller });
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

export function metadataOf<T>(app: INestApplication, key: string, route: RouteInfo): T | undefined {
  return app.get(Reflector).getAllAndOverride<T>(key, [route.handler, route.controller]);
}

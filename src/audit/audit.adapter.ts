import { Injectable, OnModuleInit, Type } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, ModuleRef, Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import {
  IDEMPOTENCY_HEADER,
  fingerprintOf,
  idempotencyKeyOf,
} from '../idempotency/idempotency.service';
import { AUDITED_ACTION, AuditAction } from './audit-actions';
import { CLIENT_HEADER, clientOf } from './client-header';
import { UnitOfWork } from './unit-of-work';
import { WRITE_PRECONDITION, WritePrecondition } from './write-precondition';

/** Where an `@Audited` handler finds its app's adapter: a property of its controller. */
export const AUDIT_ADAPTER = Symbol('taskflow:audit-adapter');

type Handler = (...args: never[]) => unknown;

/** What a handler's metadata says about its writes, read once per handler. */
interface Route {
  action: AuditAction;
  name: string;
  precondition: WritePrecondition | undefined;
  httpCode: number | undefined;
}

/**
 * The HTTP adapter of `UnitOfWork`: an `@Audited(action)` handler runs as one unit of work by
 * the caller, once per `Idempotency-Key` on a POST, after the route's write precondition
 * (`If-Match`). A replayed answer keeps its first status and says `Idempotent-Replayed: true`.
 *
 * Not a Nest interceptor: `@Audited` wraps the handler itself (audited.decorator.ts), which
 * calls `run` after the guards and the validation pipe. An interceptor would put every write
 * through rxjs and Nest's `AsyncResource.bind` per call, for nothing this needs.
 */
@Injectable()
export class AuditAdapter implements OnModuleInit {
  private readonly routes = new WeakMap<Handler, Route>();

  constructor(
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Hands this app's adapter to its controllers (several apps may share a process: tests). */
  onModuleInit(): void {
    for (const { instance } of this.discovery.getControllers()) {
      if (instance && typeof instance === 'object') {
        Object.defineProperty(instance, AUDIT_ADAPTER, { value: this });
      }
    }
  }

  run(
    controller: object,
    handler: Handler,
    request: FastifyRequest & { user: AuthUser },
    reply: FastifyReply,
    call: () => unknown,
  ): Promise<unknown> {
    const route = this.route(controller, handler);
    const key =
      request.method === 'POST' ? idempotencyKeyOf(request.headers[IDEMPOTENCY_HEADER]) : undefined;
    const work = {
      actorId: request.user.id,
      action: route.action,
      client: clientOf(request.headers[CLIENT_HEADER]),
      name: route.name,
    };
    const idempotent =
      key === undefined
        ? undefined
        : {
            key,
            fingerprint: fingerprintOf(request.method, request.url, request.body),
            statusCode: () => statusOf(route, reply),
          };
    return this.unitOfWork
      .runOnce(work, idempotent, async () => {
        await route.precondition?.check(request);
        return call();
      })
      .then((outcome) => {
        if (!outcome.replayed) return outcome.value;
        void reply.status(outcome.statusCode).header('Idempotent-Replayed', 'true');
        return outcome.response ?? undefined;
      });
  }

  private route(controller: object, handler: Handler): Route {
    let route = this.routes.get(handler);
    if (!route) {
      const type = controller.constructor as Type;
      const preconditionType = this.reflector.getAllAndOverride<
        Type<WritePrecondition> | undefined
      >(WRITE_PRECONDITION, [handler, type]);
      route = {
        action: this.reflector.get<AuditAction>(AUDITED_ACTION, handler),
        name: `${type.name}.${handler.name}`,
        precondition: preconditionType && this.moduleRef.get(preconditionType, { strict: false }),
        httpCode: this.reflector.get<number | undefined>(HTTP_CODE_METADATA, handler),
      };
      this.routes.set(handler, route);
    }
    return route;
  }
}

/** The status the answer will have: set by the handler, else its @HttpCode, else 201. */
function statusOf(route: Route, reply: FastifyReply): number {
  if (reply.statusCode !== 200) return reply.statusCode;
  return route.httpCode ?? 201;
}

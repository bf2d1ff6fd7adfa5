import { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import passport from 'passport';

/** The prefix of this app instance's Passport strategy names (see `AuthModule.forRoot`). */
export const STRATEGY_PREFIX = Symbol('STRATEGY_PREFIX');

/**
 * A Passport strategy registered by hand rather than through `PassportStrategy()`: Passport's
 * registry is process-wide, and a fixed name would let the last app built in a process (several
 * live side by side in the tests) answer for all of them. Each app registers its strategies
 * under its own prefix and removes them once it has stopped serving.
 */
export abstract class AppStrategy implements OnModuleInit, OnApplicationShutdown {
  constructor(readonly name: string) {}

  protected abstract create(): passport.Strategy;

  onModuleInit(): void {
    passport.use(this.name, this.create());
  }

  /** After the HTTP server has drained (not at module destroy, which runs before it). */
  onApplicationShutdown(): void {
    passport.unuse(this.name);
  }
}

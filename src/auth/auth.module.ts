import { DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { randomUUID } from 'node:crypto';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JWT_STRATEGY_NAME, JwtStrategy } from './jwt.strategy';
import { WorkersModule } from '../workers/workers.module';
import { MeController } from './me.controller';
import { AdminGuard } from './require-admin';
import { SigningKeys } from './signing-keys';
import { TokenVerifier } from './token-verifier';

@Module({})
export class AuthModule {
  static forRoot(): DynamicModule {
    const strategy = `jwt-${randomUUID()}`;
    return {
      module: AuthModule,
      // Global: the guards it exports are registered app-wide, and metrics read the verifier.
      global: true,
      imports: [
        PassportModule.register({ defaultStrategy: strategy, session: false }),
        WorkersModule,
      ],
      controllers: [MeController],
      providers: [
        { provide: JWT_STRATEGY_NAME, useValue: strategy },
        SigningKeys,
        TokenVerifier,
        JwtStrategy,
        JwtAuthGuard,
        AdminGuard,
      ],
      exports: [JwtAuthGuard, AdminGuard, TokenVerifier],
    };
  }
}

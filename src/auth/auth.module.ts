import { DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { JoseStrategy } from './jose.strategy';
import { JwtAuthGuard } from './jwt-auth.guard';
import { PassportJwtStrategy } from './passport-jwt.strategy';
import { AdminGuard } from './require-admin';
import { SigningKeys } from './signing-keys';
import { TokenVerifier } from './token-verifier';

@Module({})
export class AuthModule {
  static forRoot(): DynamicModule {
    return {
      module: AuthModule,
      // Global: the guards it exports are registered app-wide, and metrics read the verifier.
      global: true,
      imports: [PassportModule.register({ session: false })],
      providers: [
        SigningKeys,
        TokenVerifier,
        JoseStrategy,
        PassportJwtStrategy,
        JwtAuthGuard,
        AdminGuard,
      ],
      exports: [JwtAuthGuard, AdminGuard, TokenVerifier],
    };
  }
}

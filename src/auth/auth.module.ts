import { DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyVerifier } from './api-key-verifier';
import { ApiKey } from './api-key.entity';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyStrategy } from './api-key.strategy';
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
      // The keys table is the auth module's: it checks keys, and exports the repository to the
      // workers' routes that create and revoke them.
      imports: [PassportModule.register({ session: false }), TypeOrmModule.forFeature([ApiKey])],
      providers: [
        SigningKeys,
        TokenVerifier,
        ApiKeyRepository,
        ApiKeyVerifier,
        ApiKeyStrategy,
        JoseStrategy,
        PassportJwtStrategy,
        JwtAuthGuard,
        AdminGuard,
      ],
      exports: [JwtAuthGuard, AdminGuard, TokenVerifier, ApiKeyRepository],
    };
  }
}

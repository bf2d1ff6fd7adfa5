import { Global, Module } from '@nestjs/common';
import { AuditTrail } from './audit-trail';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditService } from './audit.service';

/** Global: every feature module's services describe their changes through `AuditTrail`. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditTrail, AuditInterceptor],
  exports: [AuditService, AuditTrail, AuditInterceptor],
})
export class AuditModule {}

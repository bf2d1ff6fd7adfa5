import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEntry } from './audit-entry.entity';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditTrail } from './audit-trail';
import { AuditController } from './audit.controller';
import { AuditInterceptor } from './audit.interceptor';
import { AuditService } from './audit.service';
import { UnitOfWork } from './unit-of-work';

/**
 * Global: every feature's services describe their changes through `AuditTrail`, and every
 * feature's writes run through `UnitOfWork` (over HTTP, through `AuditInterceptor`).
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEntry])],
  controllers: [AuditController],
  providers: [AuditEntryRepository, AuditService, AuditTrail, UnitOfWork, AuditInterceptor],
  exports: [AuditEntryRepository, AuditTrail, UnitOfWork, AuditInterceptor],
})
export class AuditModule {}

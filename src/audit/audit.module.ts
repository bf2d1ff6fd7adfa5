import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuditEntryRepository } from './audit-entry.repository';
import { AuditTrail } from './audit-trail';
import { AuditController } from './audit.controller';
import { AuditAdapter } from './audit.adapter';
import { AuditService } from './audit.service';
import { UnitOfWork } from './unit-of-work';

/**
 * Global: every feature's services describe their changes through `AuditTrail`, and every
 * feature's writes run through `UnitOfWork` (over HTTP, through `AuditAdapter`).
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  controllers: [AuditController],
  providers: [AuditEntryRepository, AuditService, AuditTrail, UnitOfWork, AuditAdapter],
  exports: [AuditEntryRepository, AuditTrail, UnitOfWork],
})
export class AuditModule {}

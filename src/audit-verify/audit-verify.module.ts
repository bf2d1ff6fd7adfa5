import { Module } from '@nestjs/common';
import { AuditVerifyController } from './audit-verify.controller';
import { AuditVerifyService } from './audit-verify.service';

@Module({
  controllers: [AuditVerifyController],
  providers: [AuditVerifyService],
})
export class AuditVerifyModule {}

import { Injectable } from '@nestjs/common';
import { AuditEntryRepository } from '../audit/audit-entry.repository';
import { DEFAULT_PAGE_SIZE, Page } from '../common/pagination/pagination.query';
import {
  AuditHead,
  AuditHeadsQuery,
  AuditVerifyResponse,
  VerifyAuditQuery,
} from './dto/audit-verify.dto';

/** Recomputes the audit log's hash chains, and lists their heads for an outside store. */
@Injectable()
export class AuditVerifyService {
  constructor(private readonly entries: AuditEntryRepository) {}

  async verify(query: VerifyAuditQuery): Promise<AuditVerifyResponse> {
    const { checked, firstBroken } = await this.entries.verify(
      query.task_id ?? null,
      query.since ?? null,
    );
    const broken = firstBroken && {
      id: firstBroken.id,
      task_id: firstBroken.taskId,
      reason: firstBroken.reason,
    };
    return { checked, ok: broken === null, first_broken: broken };
  }

  heads(query: AuditHeadsQuery): Promise<Page<AuditHead>> {
    return this.entries.heads(
      query.task_id ?? null,
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.offset ?? 0,
    );
  }
}

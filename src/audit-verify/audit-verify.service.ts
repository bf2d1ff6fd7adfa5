import { Injectable } from '@nestjs/common';
import { DEFAULT_PAGE_SIZE, Page } from '../common/pagination/pagination.query';
import { Sql } from '../database/sql';
import { CHAIN_HEADS_SQL, COUNT_CHAINS_SQL, VERIFY_CHAINS_SQL } from './audit-verify.sql';
import {
  AuditHead,
  AuditHeadsQuery,
  AuditVerifyResponse,
  BrokenReason,
  VerifyAuditQuery,
} from './dto/audit-verify.dto';

/** Recomputes the audit log's hash chains, and lists their heads for an outside store. */
@Injectable()
export class AuditVerifyService {
  constructor(private readonly sql: Sql) {}

  async verify(query: VerifyAuditQuery): Promise<AuditVerifyResponse> {
    const [row] = await this.sql.rows<{
      checked: number;
      id: string | null;
      task_id: number | null;
      reason: BrokenReason | null;
    }>(VERIFY_CHAINS_SQL, [query.task_id ?? null, query.since ?? null]);
    const broken =
      row.id === null ? null : { id: Number(row.id), task_id: row.task_id, reason: row.reason! };
    return { checked: row.checked, ok: broken === null, first_broken: broken };
  }

  async heads(query: AuditHeadsQuery): Promise<Page<AuditHead>> {
    const taskId = query.task_id ?? null;
    const rows = await this.sql.rows<AuditHead & { entry_id: string }>(CHAIN_HEADS_SQL, [
      taskId,
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.offset ?? 0,
    ]);
    const [{ total }] = await this.sql.rows<{ total: number }>(COUNT_CHAINS_SQL, [taskId]);
    return { items: rows.map((r) => ({ ...r, entry_id: Number(r.entry_id) })), total };
  }
}

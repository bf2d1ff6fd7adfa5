import { Injectable } from '@nestjs/common';
import type { AuthUser } from '../auth/auth-user';
import { NotFoundError } from '../common/errors/domain-errors';
import { DEFAULT_PAGE_SIZE, Page, PaginationQuery } from '../common/pagination/pagination.query';
import { AuditEntry } from './audit-entry.entity';
import { AuditEntryRepository } from './audit-entry.repository';
import { chainShownTo } from './chain-disclosure';
import { ListAuditQuery } from './dto/list-audit.query';

const shownTo = (viewer: AuthUser, page: Page<AuditEntry>): Page<AuditEntry> => ({
  items: page.items.map((entry) => chainShownTo(viewer, entry)),
  total: page.total,
});

/** Reads of the audit log. Entries are written only by `UnitOfWork`. */
@Injectable()
export class AuditService {
  constructor(private readonly entries: AuditEntryRepository) {}

  async list(query: ListAuditQuery, viewer: AuthUser): Promise<Page<AuditEntry>> {
    const page = await this.entries.page(
      viewer,
      {
        taskId: query.task_id,
        actorId: query.actor_id,
        actorType: query.actor_type,
        action: query.action,
        project: query.project,
        since: query.since,
        until: query.until,
      },
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.offset ?? 0,
    );
    return shownTo(viewer, page);
  }

  /** A task's history, oldest first; it outlives the task. 404 only if there never was one. */
  async forTask(
    taskId: number,
    query: PaginationQuery,
    viewer: AuthUser,
  ): Promise<Page<AuditEntry>> {
    const page = await this.entries.page(
      viewer,
      { taskId },
      query.limit ?? DEFAULT_PAGE_SIZE,
      query.offset ?? 0,
    );
    if (page.total === 0) throw new NotFoundError(`Task ${taskId} not found`, 'task_not_found');
    return shownTo(viewer, page);
  }
}

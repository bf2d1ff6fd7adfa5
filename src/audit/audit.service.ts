import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Repository } from 'typeorm';
import { NotFoundError } from '../common/errors/domain-errors';
import { Sql } from '../database/sql';
import { Page, PaginationQuery, paginate } from '../common/pagination/pagination.query';
import type { AuditAction } from './audit-actions';
import { APPEND_AUDIT_SQL } from './audit.sql';
import { AuditEntry } from './audit-entry.entity';
import type { AuditDetails } from './audit-trail';
import { ListAuditQuery } from './dto/list-audit.query';

@Injectable()
export class AuditService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly sql: Sql,
  ) {}

  private get entries(): Repository<AuditEntry> {
    return this.txHost.tx.getRepository(AuditEntry);
  }

  /**
   * Appends one entry in the current transaction. The actor's type is read from the worker
   * registry by the same statement (`human` when the `sub` is not registered), so recording
   * costs one round trip. Every mutation pays for it, so it is plain SQL (`Sql`), in the
   * mutation's transaction.
   */
  async append(action: AuditAction, actorId: string, details: AuditDetails): Promise<void> {
    await this.sql.rows(APPEND_AUDIT_SQL, [
      details.taskId ?? null,
      details.projectSlug ?? null,
      actorId,
      action,
      details.context === undefined || details.context === null
        ? null
        : JSON.stringify(details.context),
    ]);
  }

  async list(query: ListAuditQuery): Promise<Page<AuditEntry>> {
    const qb = this.entries.createQueryBuilder('a');
    if (query.task_id) qb.andWhere('a.task_id = :taskId', { taskId: query.task_id });
    if (query.actor_id) qb.andWhere('a.actor_id = :actorId', { actorId: query.actor_id });
    if (query.actor_type) qb.andWhere('a.actor_type = :actorType', { actorType: query.actor_type });
    if (query.action) qb.andWhere('a.action = :action', { action: query.action });
    if (query.project) qb.andWhere('a.project_slug = :project', { project: query.project });
    if (query.since) qb.andWhere('a.timestamp >= :since', { since: query.since });
    if (query.until) qb.andWhere('a.timestamp < :until', { until: query.until });
    return paginate(qb.orderBy('a.id', 'ASC'), query);
  }

  /** A task's history, oldest first; it outlives the task. 404 only if there never was one. */
  async forTask(taskId: number, query: PaginationQuery): Promise<Page<AuditEntry>> {
    const qb = this.entries
      .createQueryBuilder('a')
      .where('a.task_id = :taskId', { taskId })
      .orderBy('a.id', 'ASC');
    const page = await paginate(qb, query);
    if (page.total === 0) throw new NotFoundError(`Task ${taskId} not found`, 'task_not_found');
    return page;
  }
}

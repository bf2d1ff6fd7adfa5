import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Repository } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { PG, sqlState, violatedConstraint } from '../common/errors/database-errors';
import {
  ConflictError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import { DEFAULT_PAGE_SIZE, Page, PaginationQuery } from '../common/pagination/pagination.query';
import { Sql } from '../database/sql';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { UpdateTaskDto } from './dto/update-task.dto';
import { TaskDependenciesService } from './task-dependencies.service';
import { hasUnfinishedDependency } from './task-dependencies.sql';
import { assertTransition } from './task-state-machine';
import { Task } from './task.entity';
import { FIND_TASK_SQL, countTasksSql, pageOfTasksSql } from './task.sql';
import type { TaskSortField } from './task.enums';

/** The fields a client may write, in the order the audit log reports them. */
const WRITABLE_FIELDS = [
  'title',
  'description',
  'status',
  'priority',
  'progress_percent',
  'assigned_to',
  'project_slug',
  'parent_id',
  'due_date',
  'required_capabilities',
] as const satisfies readonly (keyof CreateTaskDto & keyof Task)[];
type WritableField = (typeof WRITABLE_FIELDS)[number];

export type FieldChanges = Partial<Record<WritableField, { from: unknown; to: unknown }>>;

/** The writable fields of a task as JSON: the context of `created` and `deleted` entries. */
export function taskSnapshot(task: Task): Record<WritableField, unknown> {
  return Object.fromEntries(WRITABLE_FIELDS.map((f) => [f, jsonValue(task[f])])) as Record<
    WritableField,
    unknown
  >;
}

/** Any one constant serialises changes to the task tree, so two moves cannot build a cycle. */
const TASK_TREE_LOCK = 0x7461736b; // "task"

const jsonValue = (value: unknown): unknown =>
  value instanceof Date ? value.toISOString() : value;

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

/** Escapes LIKE's wildcards so `q` matches literally. */
const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

@Injectable()
export class TasksService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly trail: AuditTrail,
    private readonly dependencies: TaskDependenciesService,
    private readonly sql: Sql,
  ) {}

  /** Inside a request's transaction when there is one, on the pool otherwise. */
  private get tasks(): Repository<Task> {
    return this.txHost.tx.getRepository(Task);
  }

  async create(dto: CreateTaskDto, actor: AuthUser): Promise<Task> {
    try {
      const result = await this.tasks
        .createQueryBuilder()
        .insert()
        .values({ ...dto, created_by: actor.id })
        .returning('*')
        .execute();
      const task = this.tasks.create(result.raw[0] as Task);
      this.trail.record({
        taskId: task.id,
        projectSlug: task.project_slug,
        context: taskSnapshot(task),
      });
      return task;
    } catch (error) {
      throw this.parentError(error, dto.parent_id) ?? error;
    }
  }

  async findOne(id: number): Promise<Task> {
    const [task] = await this.sql.rows<Task>(FIND_TASK_SQL, [id]);
    if (!task) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
    return task;
  }

  /**
   * The list, in plain SQL (the busiest read of the board): each filter is a parameter, the sort
   * column comes from the validated enum, and `id` breaks every tie in the sort's direction so
   * that pages are stable and each sort is one index scan. Tasks without a due date come last
   * in both directions.
   */
  async list(query: ListTasksQuery): Promise<Page<Task>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const filter = (condition: (param: string) => string, value: unknown) => {
      if (value === undefined) return;
      params.push(value);
      where.push(condition(`$${params.length}`));
    };
    filter((p) => `t.status = ${p}`, query.status);
    filter((p) => `t.priority = ${p}`, query.priority);
    filter((p) => `t.assigned_to = ${p}`, query.assigned_to);
    filter((p) => `t.project_slug = ${p}`, query.project);
    filter((p) => `t.parent_id = ${p}`, query.parent_id);
    filter(
      (p) => `(t.title ILIKE ${p} OR t.description ILIKE ${p})`,
      query.q && likePattern(query.q),
    );
    if (query.ready !== undefined) {
      where.push(
        query.ready ? `NOT ${hasUnfinishedDependency('t')}` : hasUnfinishedDependency('t'),
      );
    }

    const sort = query.sort ?? 'id';
    const descending = sort.startsWith('-');
    const field = (descending ? sort.slice(1) : sort) as TaskSortField;
    const direction = descending ? 'DESC' : 'ASC';
    const order = [`t.${field} ${direction}${field === 'due_date' ? ' NULLS LAST' : ''}`];
    if (field !== 'id') order.push(`t.id ${direction}`);
    return this.page(where, params, order.join(', '), query);
  }

  async subtasks(id: number, query: PaginationQuery): Promise<Page<Task>> {
    await this.assertExists(id);
    return this.page(['t.parent_id = $1'], [id], 't.id ASC', query);
  }

  /** One page, and the total: counted only when the page alone cannot tell it. */
  private async page(
    where: string[],
    params: unknown[],
    orderBy: string,
    query: PaginationQuery,
  ): Promise<Page<Task>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const offset = query.offset ?? 0;
    const items = await this.sql.rows<Task>(pageOfTasksSql(where, orderBy, limit, offset), params);
    if (items.length > 0 && items.length < limit) return { items, total: offset + items.length };
    if (items.length === 0 && offset === 0) return { items, total: 0 };
    const [{ total }] = await this.sql.rows<{ total: number }>(countTasksSql(where), params);
    return { items, total };
  }

  /**
   * A partial update. The row is locked first, so the recorded `from` values, the state-machine
   * check and the write all see the same version of the task. Returns the changed fields (empty
   * when the request changed nothing, which writes nothing).
   */
  async update(id: number, dto: UpdateTaskDto): Promise<{ task: Task; changes: FieldChanges }> {
    // Tree lock before row lock, in every transaction that takes both: no lock-order deadlock.
    if (dto.parent_id) await this.lockTaskTree();
    const current = await this.lockForUpdate(id);
    const changes: FieldChanges = {};
    const values: Partial<Pick<Task, WritableField>> = {};
    for (const field of WRITABLE_FIELDS) {
      const next = dto[field];
      if (next === undefined || sameValue(current[field], next)) continue;
      changes[field] = { from: jsonValue(current[field]), to: jsonValue(next) };
      Object.assign(values, { [field]: next });
    }
    if (Object.keys(changes).length === 0) {
      this.trail.unchanged();
      return { task: current, changes };
    }

    if (values.status) {
      assertTransition(current.status, values.status);
      if (values.status === 'in_progress' && current.status === 'pending') {
        await this.dependencies.assertReady(id);
      }
    }
    if (values.parent_id) await this.assertNoCycle(id, values.parent_id);
    // A lease belongs to a holder working the task: a new status or assignee ends it.
    const endsLease = (values.status || 'assigned_to' in values) && current.lease_expires_at;

    try {
      const result = await this.tasks
        .createQueryBuilder()
        .update()
        .set(endsLease ? { ...values, lease_expires_at: null } : values)
        .where('id = :id', { id })
        .returning('*')
        .execute();
      const task = this.tasks.create((result.raw as Task[])[0]);
      this.trail.record({ taskId: id, projectSlug: task.project_slug, context: changes });
      return { task, changes };
    } catch (error) {
      throw this.parentError(error, values.parent_id) ?? error;
    }
  }

  async remove(id: number): Promise<Task> {
    try {
      const result = await this.tasks
        .createQueryBuilder()
        .delete()
        .where('id = :id', { id })
        .returning('*')
        .execute();
      const deleted = (result.raw as Task[])[0];
      if (!deleted) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
      const task = this.tasks.create(deleted);
      this.trail.record({
        taskId: id,
        projectSlug: task.project_slug,
        context: taskSnapshot(task),
      });
      return task;
    } catch (error) {
      if (sqlState(error) === PG.foreignKeyViolation) {
        throw new ConflictError(
          violatedConstraint(error) === 'fk_task_dependencies_depends_on'
            ? `Other tasks depend on task ${id}; remove those dependencies first`
            : `Task ${id} has subtasks; delete or move them first`,
          violatedConstraint(error) === 'fk_task_dependencies_depends_on'
            ? 'task_has_dependents'
            : 'task_has_subtasks',
        );
      }
      throw error;
    }
  }

  /**
   * Locks the row for this transaction. FOR NO KEY UPDATE, not FOR UPDATE: the id never changes,
   * and this lock does not block the foreign-key checks of subtasks being created meanwhile.
   */
  async lockForUpdate(id: number): Promise<Task> {
    const task = await this.tasks
      .createQueryBuilder('t')
      .setLock('for_no_key_update')
      .where('t.id = :id', { id })
      .getOne();
    if (!task) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
    return task;
  }

  private async assertExists(id: number): Promise<void> {
    const exists = await this.tasks.existsBy({ id });
    if (!exists) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
  }

  private async lockTaskTree(): Promise<void> {
    await this.txHost.tx.query('SELECT pg_advisory_xact_lock($1)', [TASK_TREE_LOCK]);
  }

  /** Moving `id` under `parentId` must not make it its own ancestor (the tree lock is held). */
  private async assertNoCycle(id: number, parentId: number): Promise<void> {
    if (parentId === id) {
      throw ValidationFailedError.field('parent_id', 'parent_id cannot be the task itself');
    }
    // UNION (not UNION ALL) stops the walk even if the data already held a loop.
    const rows: unknown[] = await this.txHost.tx.query(
      `WITH RECURSIVE ancestors(id, parent_id) AS (
         SELECT id, parent_id FROM tasks WHERE id = $1
         UNION
         SELECT t.id, t.parent_id FROM tasks t JOIN ancestors a ON t.id = a.parent_id
       )
       SELECT 1 FROM ancestors WHERE id = $2 LIMIT 1`,
      [parentId, id],
    );
    if (rows.length > 0) {
      throw ValidationFailedError.field(
        'parent_id',
        `parent_id ${parentId} is a subtask of task ${id}; that would make a cycle`,
      );
    }
  }

  /** A foreign-key failure on `parent_id` means the named parent does not exist. */
  private parentError(error: unknown, parentId: number | null | undefined): Error | undefined {
    if (
      sqlState(error) === PG.foreignKeyViolation &&
      violatedConstraint(error) === 'fk_tasks_parent' &&
      parentId
    ) {
      return ValidationFailedError.field('parent_id', `parent_id ${parentId}: no such task`);
    }
    return undefined;
  }
}

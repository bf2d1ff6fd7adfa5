import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Repository } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { PG, sqlState, violatedConstraint } from '../common/errors/database-errors';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import { DEFAULT_PAGE_SIZE, Page, PaginationQuery } from '../common/pagination/pagination.query';
import { Sql } from '../database/sql';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { UpdateTaskDto } from './dto/update-task.dto';
import { hasUnfinishedDependency } from './task-dependencies.sql';
import { LockedTask, TaskLifecycleService } from './task-lifecycle.service';
import { InvalidTransitionError, decideMove, isRefusal, moveForStatus } from './task-moves';
import { Task } from './task.entity';
import { FIND_TASK_SQL, WORKER_CAPABILITIES_SQL, countTasksSql, pageOfTasksSql } from './task.sql';
import type { TaskSortField } from './task.enums';

/**
 * The fields a client may write, in the order the audit log reports them. `status` and
 * `assigned_to` are written only by moves (task-moves.ts); the others by `updated`.
 */
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
type MoveField = 'status' | 'assigned_to';
const isMoveField = (field: WritableField): field is MoveField =>
  field === 'status' || field === 'assigned_to';

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

/** A task without the decision columns a locked row carries. */
function plainTask(task: Task | LockedTask): Task {
  if (!('blocker' in task)) return task;
  const { blocker: _blocker, capabilities_by_worker: _capabilities, ...plain } = task;
  return plain;
}

/** Escapes LIKE's wildcards so `q` matches literally. */
const likePattern = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

@Injectable()
export class TasksService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly trail: AuditTrail,
    private readonly lifecycle: TaskLifecycleService,
    private readonly sql: Sql,
  ) {}

  /** Inside a request's transaction when there is one, on the pool otherwise. */
  private get tasks(): Repository<Task> {
    return this.txHost.tx.getRepository(Task);
  }

  /**
   * A new task is `pending` or `blocked` (the DTO refuses other statuses), never claimed: an
   * `assigned_to` is a pre-assignment, decided as the move `assign` on an unassigned pending task.
   */
  async create(dto: CreateTaskDto, actor: AuthUser): Promise<Task> {
    if (dto.assigned_to) await this.assertPreAssignable(dto, actor);
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
   * A partial update, in one transaction: the plain fields first (audited as `updated`), then
   * `assigned_to` as the move `assign`, then `status` as the move that reaches it (each audited
   * as that move, with the same rules as its lifecycle route). The row is locked first, so the
   * recorded `from` values, the decisions and the writes all see the same version of the task.
   * A refused move rolls back the whole request. Returns the changed fields (empty when the
   * request changed nothing, which writes nothing).
   */
  async update(
    id: number,
    dto: UpdateTaskDto,
    caller: AuthUser,
  ): Promise<{ task: Task; changes: FieldChanges }> {
    // Tree lock before row lock, in every transaction that takes both: no lock-order deadlock.
    if (dto.parent_id) await this.lockTaskTree();
    let current: Task | LockedTask = await this.lifecycle.lock(id, caller, dto.assigned_to);
    const changes: FieldChanges = {};
    const values: Partial<Pick<Task, WritableField>> = {};
    for (const field of WRITABLE_FIELDS) {
      const next = dto[field];
      if (next === undefined || sameValue(current[field], next)) continue;
      changes[field] = { from: jsonValue(current[field]), to: jsonValue(next) };
      if (!isMoveField(field)) Object.assign(values, { [field]: next });
    }
    if (Object.keys(changes).length === 0) {
      this.trail.unchanged();
      return { task: plainTask(current), changes };
    }

    // A status no move reaches is refused before anything is written.
    const target = changes.status ? dto.status : undefined;
    const move = target && moveForStatus(current.status, target);
    if (target && !move) throw new InvalidTransitionError(id, current.status, target);

    if (Object.keys(values).length > 0) {
      if (values.parent_id) await this.assertNoCycle(id, values.parent_id);
      try {
        const result = await this.tasks
          .createQueryBuilder()
          .update()
          .set(values)
          .where('id = :id', { id })
          .returning('*')
          .execute();
        current = this.tasks.create((result.raw as Task[])[0]);
      } catch (error) {
        throw this.parentError(error, values.parent_id) ?? error;
      }
      const fieldChanges = Object.fromEntries(
        Object.entries(changes).filter(([field]) => !isMoveField(field as WritableField)),
      );
      this.trail.record({ taskId: id, projectSlug: current.project_slug, context: fieldChanges });
    }
    if (changes.assigned_to) {
      const locked = await this.lifecycle.lock(id, caller, dto.assigned_to);
      current = await this.lifecycle.apply(locked, 'assign', caller, {
        holder: dto.assigned_to ?? null,
      });
    }
    if (target && move) {
      const locked = await this.lifecycle.lock(id, caller);
      current = await this.lifecycle.apply(locked, move, caller, { expectStatus: target });
    }
    return { task: plainTask(current), changes };
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

  /** A pre-assignment at creation is `assign` on an unassigned pending task (capabilities). */
  private async assertPreAssignable(dto: CreateTaskDto, caller: AuthUser): Promise<void> {
    const holder = dto.assigned_to as string;
    const required = dto.required_capabilities ?? [];
    const capabilities: Record<string, string[]> = {};
    if (required.length > 0) {
      const [worker] = await this.sql.rows<{ capabilities: string[] }>(WORKER_CAPABILITIES_SQL, [
        holder,
      ]);
      if (worker) capabilities[holder] = worker.capabilities;
    }
    const outcome = decideMove(
      'assign',
      {
        id: 0,
        status: 'pending',
        assigned_to: null,
        lease_expires_at: null,
        required_capabilities: required,
        blocker: null,
        capabilities,
      },
      { caller, holder },
    );
    if (isRefusal(outcome)) throw new ForbiddenError(outcome.message, outcome.code);
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

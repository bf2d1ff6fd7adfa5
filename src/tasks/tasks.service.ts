import { Injectable } from '@nestjs/common';
import { ProjectAccess } from '../access/project-access.service';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { PG, sqlState, violatedConstraint } from '../common/errors/database-errors';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import { sameUsdAmount } from '../common/limits';
import { decodeCursor, encodeCursor, listScope } from '../common/pagination/cursor';
import {
  DEFAULT_PAGE_SIZE,
  EXACT_COUNT_UP_TO,
  Page,
  PaginationQuery,
} from '../common/pagination/pagination.query';
import { WorkerRepository } from '../workers/worker.repository';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { UpdateTaskDto } from './dto/update-task.dto';
import { TaskLifecycleService, refusalError, subjectOf } from './task-lifecycle.service';
import {
  InvalidTransitionError,
  decideMove,
  decideProjectMove,
  isRefusal,
  moveForStatus,
} from './task-moves';
import { Task } from './task.entity';
import type { TaskSortField } from './task.enums';
import type { ProjectRole } from '../access/project-access';
import {
  TASK_WRITABLE_COLUMNS,
  TaskFilters,
  TaskPage,
  TaskPageStart,
  TaskRepository,
  TaskValues,
  TaskWritableColumn,
  isSortKey,
} from './task.repository';

/**
 * The fields a client may write, in the order the audit log reports them. `status` and
 * `assigned_to` are written only by moves (task-moves.ts); the others by `updated`.
 */
const WRITABLE_FIELDS = TASK_WRITABLE_COLUMNS satisfies readonly (keyof CreateTaskDto)[];
type WritableField = TaskWritableColumn;
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

const jsonValue = (value: unknown): unknown =>
  value instanceof Date ? value.toISOString() : value;

function sameValue(field: WritableField, a: unknown, b: unknown): boolean {
  // Money is text (numeric(14,6) answers `5.000000`), and a client may well send `5`.
  if (field === 'budget_usd' && typeof a === 'string' && typeof b === 'string') {
    return sameUsdAmount(a, b);
  }
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

@Injectable()
export class TasksService {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly workers: WorkerRepository,
    private readonly trail: AuditTrail,
    private readonly lifecycle: TaskLifecycleService,
    private readonly access: ProjectAccess,
  ) {}

  /**
   * A new task is `pending` or `blocked` (the DTO refuses other statuses), never claimed: an
   * `assigned_to` is a pre-assignment, decided as the move `assign` on an unassigned pending task.
   */
  async create(dto: CreateTaskDto, actor: AuthUser): Promise<Task> {
    await this.access.assertCanPlaceIn(dto.project_slug, actor);
    if (dto.parent_id) {
      // A new subtask is a reference to its parent: it waits for a parent changing project.
      const parentId = dto.parent_id;
      await this.tasks.lockReferences(() => Promise.resolve([parentId]));
      await this.assertParent(dto.parent_id, dto.project_slug ?? null, actor);
    }
    if (dto.assigned_to) await this.assertPreAssignable(dto, actor);
    try {
      const task = await this.tasks.insert({ ...dto, created_by: actor.id });
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

  /** A task the caller may see; 404 for one that is missing or hidden alike. */
  async findOne(id: number, viewer: AuthUser): Promise<Task> {
    const task = await this.tasks.find(id, viewer);
    if (!task) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
    return task;
  }

  /**
   * The list, a page at a time: after a cursor (keyset: a deep page costs what the first one
   * does) or past an offset (older clients). The sort comes from the validated enum, ties broken
   * by id. The total is exact when the page itself tells it or `count=exact` asks; else counted
   * up to EXACT_COUNT_UP_TO and estimated beyond.
   */
  async list(query: ListTasksQuery, viewer: AuthUser): Promise<Page<Task>> {
    if (query.cursor !== undefined && query.offset !== undefined) {
      throw ValidationFailedError.field(
        'offset',
        'offset cannot be combined with cursor: the cursor already says where the page starts',
      );
    }
    const sortName = query.sort ?? 'id';
    const descending = sortName.startsWith('-');
    const sort = {
      field: (descending ? sortName.slice(1) : sortName) as TaskSortField,
      descending,
    };
    const filters: TaskFilters = {
      status: query.status,
      priority: query.priority,
      assignedTo: query.assigned_to,
      project: query.project,
      parentId: query.parent_id,
      text: query.q,
      ready: query.ready,
      allTags: query.tag,
      anyTags: query.any_tag,
      completedSince: query.completed_since,
      completedUntil: query.completed_until,
    };
    const scope = listScope({ ...filters, sort: sortName });
    const start: TaskPageStart =
      query.cursor === undefined
        ? { offset: query.offset ?? 0 }
        : { after: decodeCursor(query.cursor, scope, (key) => isSortKey(sort.field, key)) };
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const page = await this.tasks.page(viewer, filters, sort, limit, start);
    const { total, estimated } =
      query.count === 'exact'
        ? await this.tasks.count(viewer, filters)
        : (totalFromPage(page, start) ??
          (await this.tasks.count(viewer, filters, EXACT_COUNT_UP_TO)));
    return {
      items: page.items,
      total,
      totalEstimated: estimated || undefined,
      next: page.more && page.last ? encodeCursor(scope, page.last) : undefined,
    };
  }

  /** A task's direct subtasks by id, with an offset: few per task, so always counted exactly. */
  async subtasks(id: number, query: PaginationQuery, viewer: AuthUser): Promise<Page<Task>> {
    await this.assertExists(id, viewer);
    const filters = { parentId: id };
    const start = { offset: query.offset ?? 0 };
    const page = await this.tasks.page(
      viewer,
      filters,
      { field: 'id', descending: false },
      query.limit ?? DEFAULT_PAGE_SIZE,
      start,
    );
    const { total } = totalFromPage(page, start) ?? (await this.tasks.count(viewer, filters));
    return { items: page.items, total };
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
    // Reference locks before the row lock, in every transaction that takes both: no lock-order
    // deadlock. A new parent holds the task and the parent's ancestry, so no concurrent change can
    // make the task its own ancestor; a move between projects holds the task and its neighbours,
    // so no subtask, dependency or neighbour's own move slips in between its reference check and
    // its commit. Changes to unrelated tasks take other locks and never wait.
    const movesProject = dto.project_slug !== undefined;
    const newParent = dto.parent_id;
    if (newParent || movesProject) {
      await this.tasks.lockReferences(async () => [
        id,
        ...(newParent ? await this.tasks.ancestry(newParent) : []),
        ...(movesProject ? await this.tasks.neighbours(id) : []),
      ]);
    }
    let current: Task = (await this.lifecycle.lock(id, caller, dto.assigned_to)).task;
    await this.access.assertWriter(current.project_slug, caller);
    const changes: FieldChanges = {};
    const values: TaskValues = {};
    for (const field of WRITABLE_FIELDS) {
      const next = dto[field];
      if (next === undefined || sameValue(field, current[field], next)) continue;
      changes[field] = { from: jsonValue(current[field]), to: jsonValue(next) };
      if (!isMoveField(field)) Object.assign(values, { [field]: next });
    }
    if (Object.keys(changes).length === 0) {
      this.trail.unchanged();
      return { task: current, changes };
    }

    // A status no move reaches is refused before anything is written.
    const target = changes.status ? dto.status : undefined;
    const move = target && moveForStatus(current.status, target);
    if (target && !move) throw new InvalidTransitionError(id, current.status, target);

    if (Object.keys(values).length > 0) {
      if (values.project_slug !== undefined) {
        await this.access.assertCanPlaceIn(values.project_slug, caller);
      }
      // A new parent is checked as the field it is (422); the one the task keeps is a reference
      // like its dependencies, which the move between projects checks (409).
      if (values.parent_id) {
        const project =
          values.project_slug !== undefined ? values.project_slug : current.project_slug;
        await this.assertParent(values.parent_id, project, caller);
        await this.assertNoCycle(id, values.parent_id);
      }
      try {
        current = await this.tasks.update(id, values);
      } catch (error) {
        throw this.parentError(error, values.parent_id) ?? error;
      }
      if (changes.project_slug) {
        await this.assertMovedSoundly(id, caller, changes.assigned_to ? null : current.assigned_to);
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
    return { task: current, changes };
  }

  /**
   * Deletes a task the caller sees. Tasks the caller cannot see never decide the answer (that
   * would tell them such tasks exist, and stop them deleting their own task): the hidden tasks
   * that hang on it let go of it, their `parent_id` cleared and their dependency on it removed,
   * each audited on that task for its own readers. Visible subtasks and dependents refuse the
   * delete (409), as the foreign keys do, and then nothing changes, hidden ones included.
   */
  async remove(id: number, caller: AuthUser): Promise<Task> {
    // Locked FOR UPDATE, so no subtask or dependency can be added while the hidden ones let go.
    const visible = await this.tasks.lockForDelete(id, caller);
    if (!visible) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
    await this.access.assertWriter(visible.project_slug, caller);
    try {
      for (const hidden of await this.tasks.detachHidden(id, caller)) {
        const details = { taskId: hidden.id, projectSlug: hidden.project_slug };
        if (hidden.field === 'parent_id') {
          this.trail.recordAs('updated', {
            ...details,
            context: { parent_id: { from: id, to: null } },
          });
        } else {
          this.trail.recordAs('dependency_removed', { ...details, context: { depends_on: id } });
        }
      }
      const task = await this.tasks.delete(id);
      if (!task) throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
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
   * The rule for a move between projects (`decideProjectMove`), on the task as it now is: the
   * holder it keeps must work in its new project, and no reference to or from it may point
   * into a private project from outside. Called with the reference locks held; holding the
   * projects involved keeps their visibility and members as decided until the commit.
   */
  private async assertMovedSoundly(
    id: number,
    caller: AuthUser,
    holder: string | null,
  ): Promise<void> {
    await this.tasks.holdProjectsAround(id);
    const locked = await this.lifecycle.lock(id, caller, holder);
    const refusal = decideProjectMove(
      subjectOf(locked),
      holder,
      await this.tasks.privateReferenceOf(id, caller),
    );
    if (refusal) throw refusalError(refusal);
  }

  private async assertExists(id: number, viewer: AuthUser): Promise<void> {
    if (!(await this.tasks.exists(id, viewer)))
      throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
  }

  /**
   * A parent the caller cannot see is, to them, no task at all; and a task sits under a parent
   * only where everyone who sees it also sees the parent (see ProjectAccess.assertReferable).
   */
  private async assertParent(
    parentId: number,
    project: string | null,
    viewer: AuthUser,
  ): Promise<void> {
    const parent = await this.tasks.find(parentId, viewer);
    if (!parent) {
      throw ValidationFailedError.field('parent_id', `parent_id ${parentId}: no such task`);
    }
    await this.access.assertReferable(project, parent.project_slug, 'parent_id', parentId);
  }

  /** Moving `id` under `parentId` must not make it its own ancestor (the parent's ancestry is locked). */
  private async assertNoCycle(id: number, parentId: number): Promise<void> {
    if (parentId === id) {
      throw ValidationFailedError.field('parent_id', 'parent_id cannot be the task itself');
    }
    if (await this.tasks.isAncestorOrSelf(id, parentId)) {
      throw ValidationFailedError.field(
        'parent_id',
        `parent_id ${parentId} is a subtask of task ${id}; that would make a cycle`,
      );
    }
  }

  /**
   * A pre-assignment at creation is `assign` on an unassigned pending task (project membership,
   * capabilities).
   */
  private async assertPreAssignable(dto: CreateTaskDto, caller: AuthUser): Promise<void> {
    const holder = dto.assigned_to as string;
    const required = dto.required_capabilities ?? [];
    const capabilities: Record<string, string[]> = {};
    if (required.length > 0) {
      const registered = await this.workers.capabilitiesOf(holder);
      if (registered) capabilities[holder] = registered;
    }
    const project = dto.project_slug ?? null;
    const roles: Record<string, ProjectRole> = {};
    if (project !== null) {
      for (const worker of new Set([caller.id, holder])) {
        const role = await this.access.roleOf(project, worker);
        if (role) roles[worker] = role;
      }
    }
    const outcome = decideMove(
      'assign',
      {
        id: 0,
        project_slug: project,
        project_roles: roles,
        status: 'pending',
        assigned_to: null,
        lease_expires_at: null,
        attempts: 0,
        max_attempts: dto.max_attempts ?? 1,
        not_before: null,
        required_capabilities: required,
        blocker: null,
        capabilities,
        awaiting_input: false,
        // A sign-off rule concerns review, which a new task is far from.
        review_policy: 'other',
        worker_types: {},
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

/**
 * The total when the page alone tells it (a first or offset page that is the last one, and not
 * empty past its offset), which saves the count.
 */
function totalFromPage(
  page: TaskPage,
  start: TaskPageStart,
): { total: number; estimated: false } | undefined {
  if (!('offset' in start) || page.more) return undefined;
  if (page.items.length === 0 && start.offset > 0) return undefined;
  return { total: start.offset + page.items.length, estimated: false };
}

import { Injectable } from '@nestjs/common';
import { ProjectAccess } from '../access/project-access.service';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { ConflictError, ForbiddenError, NotFoundError } from '../common/errors/domain-errors';
import { decodeCursor, encodeCursor, listScope } from '../common/pagination/cursor';
import { DEFAULT_PAGE_SIZE, Page } from '../common/pagination/pagination.query';
import type {
  ArtifactInput,
  CreateCommentDto,
  InboxItem,
  InboxQuery,
  ListCommentsQuery,
} from './dto/collaboration.dto';
import { TaskArtifacts } from './task-artifacts';
import type { TaskComment } from './task-comment.entity';
import { TaskCommentRepository } from './task-comment.repository';
import { DEFAULT_LEASE_SECONDS, TaskLifecycleService } from './task-lifecycle.service';
import { TaskThread } from './task-thread';
import type { Task } from './task.entity';
import { TaskRepository } from './task.repository';

/**
 * What people and agents say to each other on a task and what its work produced: comments,
 * questions and their answers, artifacts, and each caller's inbox. Every write locks the task
 * (a task the caller cannot read is a 404) and needs the caller to write in its project (403
 * `not_project_member`), like every change to a task.
 */
@Injectable()
export class TaskCollaborationService {
  constructor(
    private readonly lifecycle: TaskLifecycleService,
    private readonly thread: TaskThread,
    private readonly results: TaskArtifacts,
    private readonly commentRows: TaskCommentRepository,
    private readonly tasks: TaskRepository,
    private readonly access: ProjectAccess,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Adds a comment. An `answer` from anyone but the assignee, on a task waiting for one, clears
   * `awaiting_input` (audited `answered`).
   */
  async comment(id: number, caller: AuthUser, dto: CreateCommentDto): Promise<TaskComment> {
    const { task } = await this.lifecycle.lock(id, caller);
    await this.access.assertWriter(task.project_slug, caller);
    const { comment } = await this.thread.add(task, caller, {
      kind: dto.kind ?? 'note',
      body: dto.body,
      replyTo: dto.reply_to,
    });
    if (comment.kind === 'answer' && task.awaiting_input && task.assigned_to !== caller.id) {
      await this.tasks.setAwaitingInput(task.id, false, DEFAULT_LEASE_SECONDS);
      this.trail.recordAs('answered', {
        taskId: task.id,
        projectSlug: task.project_slug,
        context: { comment_id: comment.id },
      });
    }
    return comment;
  }

  /** A task's comments, oldest first, a page at a time after the cursor's comment. */
  async comments(
    id: number,
    query: ListCommentsQuery,
    viewer: AuthUser,
  ): Promise<Page<TaskComment>> {
    if (!(await this.tasks.exists(id, viewer))) {
      throw new NotFoundError(`Task ${id} not found`, 'task_not_found');
    }
    const scope = listScope({ task_id: id });
    const after =
      query.cursor === undefined ? null : decodeCursor(query.cursor, scope, (k) => k === null).id;
    const page = await this.commentRows.page(id, query.limit ?? DEFAULT_PAGE_SIZE, after);
    const last = page.items.at(-1);
    return {
      items: page.items,
      total: await this.commentRows.count(id),
      next: page.more && last ? encodeCursor(scope, { key: null, id: last.id }) : undefined,
    };
  }

  /**
   * The assignee of a task in progress asks a question: a `question` comment, and the task
   * waits (`awaiting_input`), its lease held, until someone else answers.
   */
  async ask(id: number, caller: AuthUser, question: string): Promise<Task> {
    const { task } = await this.lifecycle.lock(id, caller);
    await this.access.assertWriter(task.project_slug, caller);
    if (task.status !== 'in_progress') {
      throw new ConflictError(
        `Task ${id} is '${task.status}'; only a task in progress waits for an answer`,
        'invalid_transition',
      );
    }
    if (task.assigned_to !== caller.id) {
      throw new ForbiddenError(
        `Task ${id} is ${task.assigned_to === null ? 'unassigned' : `assigned to ${task.assigned_to}`}; only its assignee asks on it`,
        'not_assignee',
      );
    }
    const { comment } = await this.thread.add(task, caller, { kind: 'question', body: question });
    const waiting = await this.tasks.setAwaitingInput(task.id, true, DEFAULT_LEASE_SECONDS);
    this.trail.record({
      taskId: task.id,
      projectSlug: task.project_slug,
      context: { comment_id: comment.id },
    });
    return waiting;
  }

  async addArtifact(id: number, caller: AuthUser, input: ArtifactInput): Promise<Task> {
    const { task } = await this.lifecycle.lock(id, caller);
    await this.results.assertMayChange(task, caller);
    return this.results.add(task, caller, [input]);
  }

  async removeArtifact(id: number, caller: AuthUser, url: string): Promise<Task> {
    const { task } = await this.lifecycle.lock(id, caller);
    await this.results.assertMayChange(task, caller);
    return this.results.remove(task, url);
  }

  /** The caller's inbox, most urgent first (see `INBOX_SQL` in task.repository.ts). */
  async inbox(query: InboxQuery, caller: AuthUser): Promise<Page<InboxItem>> {
    return this.tasks.inbox(caller, query.limit ?? DEFAULT_PAGE_SIZE, query.offset ?? 0);
  }
}

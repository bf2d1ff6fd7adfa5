import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import { ValidationFailedError } from '../common/errors/domain-errors';
import { TaskCommentRepository } from './task-comment.repository';
import type { TaskComment } from './task-comment.entity';
import type { LastHandoff, Task } from './task.entity';
import type { CommentKind } from './task.enums';
import { TaskRepository } from './task.repository';

/** The hex SHA-256 of a comment's text as UTF-8: what its `commented` entry vouches for. */
export const bodySha256 = (body: string): string =>
  createHash('sha256').update(body, 'utf8').digest('hex');

/**
 * A task's thread: appends comments to a task the caller's transaction has locked, for every
 * route that writes one (comments, hand-off notes of moves, questions). Each comment is audited
 * as `commented` with the SHA-256 of its text, so the task's hash chain vouches for the text and
 * `/api/audit/verify` notices an edit (see `AuditEntryRepository.verify`).
 */
@Injectable()
export class TaskThread {
  constructor(
    private readonly comments: TaskCommentRepository,
    private readonly tasks: TaskRepository,
    private readonly trail: AuditTrail,
  ) {}

  /** Adds the comment; a `handoff` becomes the task's `last_handoff`. */
  async add(
    task: Task,
    author: AuthUser,
    input: { kind: CommentKind; body: string; replyTo?: number | null },
  ): Promise<{ comment: TaskComment; task: Task }> {
    const comment = await this.append(task, author, input);
    if (comment.kind !== 'handoff') return { comment, task };
    return { comment, task: await this.tasks.setLastHandoff(task.id, handoffOf(comment)) };
  }

  /**
   * Inserts and audits the comment without writing the task's row: a move keeps its hand-off
   * note's `last_handoff` (`handoffOf`) in its own UPDATE, so that the task's version goes up
   * once per request.
   */
  async append(
    task: Task,
    author: AuthUser,
    input: { kind: CommentKind; body: string; replyTo?: number | null },
  ): Promise<TaskComment> {
    const replyTo = input.replyTo ?? null;
    if (replyTo !== null && !(await this.comments.existsOn(task.id, replyTo))) {
      throw ValidationFailedError.field(
        'reply_to',
        `reply_to ${replyTo}: task ${task.id} has no such comment`,
      );
    }
    const comment = await this.comments.insert({
      taskId: task.id,
      authorId: author.id,
      kind: input.kind,
      body: input.body,
      replyTo,
    });
    this.trail.recordAs('commented', {
      taskId: task.id,
      projectSlug: task.project_slug,
      context: {
        comment_id: comment.id,
        kind: comment.kind,
        body_sha256: bodySha256(comment.body),
      },
    });
    return comment;
  }
}

/** A hand-off comment as the task's `last_handoff`. */
export const handoffOf = (comment: TaskComment): LastHandoff => ({
  comment_id: comment.id,
  author_id: comment.author_id,
  body: comment.body,
  created_at: comment.created_at.toISOString(),
});

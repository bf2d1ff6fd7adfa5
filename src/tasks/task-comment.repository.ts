import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { TableRepository } from '../database/table-repository';
import { TaskComment } from './task-comment.entity';
import type { CommentKind } from './task.enums';

type CommentRow = Omit<TaskComment, 'id' | 'reply_to'> & { id: string; reply_to: string | null };

/** pg returns bigint as text; comment ids stay far below 2^53, so they are numbers in JSON. */
const toComment = (row: CommentRow): TaskComment => ({
  id: Number(row.id),
  task_id: row.task_id,
  author_id: row.author_id,
  author_type: row.author_type,
  kind: row.kind,
  body: row.body,
  reply_to: row.reply_to === null ? null : Number(row.reply_to),
  created_at: row.created_at,
});

export interface NewComment {
  taskId: number;
  authorId: string;
  kind: CommentKind;
  body: string;
  replyTo: number | null;
}

/**
 * The `task_comments` table: appended to, never changed (its trigger refuses UPDATE and DELETE).
 * It applies no visibility rule of its own: a task's comments are read only once the task has
 * been found through `TaskRepository`, which applies it.
 */
@Injectable()
export class TaskCommentRepository extends TableRepository<TaskComment> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, TaskComment);
  }

  /** Appends a comment; the author's type comes from the worker registry, as an audit entry's. */
  async insert(comment: NewComment): Promise<TaskComment> {
    const [row] = await this.write<CommentRow>(
      `INSERT INTO task_comments (task_id, author_id, author_type, kind, body, reply_to)
       VALUES ($1, $2::varchar, COALESCE((SELECT type FROM workers WHERE id = $2::varchar), 'human'),
               $3, $4, $5)
       RETURNING *`,
      [comment.taskId, comment.authorId, comment.kind, comment.body, comment.replyTo],
    );
    return toComment(row);
  }

  /** Whether comment `id` belongs to task `taskId`. */
  async existsOn(taskId: number, id: number): Promise<boolean> {
    const rows = await this.select(`SELECT 1 FROM task_comments WHERE id = $1 AND task_id = $2`, [
      id,
      taskId,
    ]);
    return rows.length > 0;
  }

  /**
   * One page of a task's comments, oldest first, after comment `afterId` (keyset on the task's
   * index, so a deep page costs what the first does), and whether more follow.
   */
  async page(
    taskId: number,
    limit: number,
    afterId: number | null,
  ): Promise<{ items: TaskComment[]; more: boolean }> {
    const rows = await this.select<CommentRow>(
      `SELECT * FROM task_comments WHERE task_id = $1 AND ($2::bigint IS NULL OR id > $2::bigint)
        ORDER BY id LIMIT $3`,
      [taskId, afterId, limit + 1],
    );
    return { items: rows.slice(0, limit).map(toComment), more: rows.length > limit };
  }

  async count(taskId: number): Promise<number> {
    const [{ total }] = await this.select<{ total: number }>(
      `SELECT count(*)::integer AS total FROM task_comments WHERE task_id = $1`,
      [taskId],
    );
    return total;
  }
}

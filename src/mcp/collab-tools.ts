import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
// zod/v3, not zod: see tool-kit.ts.
import { z } from 'zod/v3';
import { enums, parameterLimits, schemaLimits } from '../client/contract';
import {
  type Comment,
  followPages,
  type TaskflowClient,
  unwrap,
  unwrapPage,
} from '../client/taskflow-client';
import {
  artifactFields,
  idempotencyKey,
  integer,
  keyHeader,
  MOVE,
  READ,
  register,
  taskId,
  text,
  type ToolContext,
  waitProgress,
} from './tool-kit';
import { MAX_WAIT_SECONDS, waitFor } from './wait-for-task';

const COMMENT = schemaLimits.CreateCommentDto;
const COMMENTS = parameterLimits.TaskCollaboration_comments.query;

/**
 * The answer to `asker`'s latest question: the last `answer` comment after it, by someone else.
 * Comments come oldest first, so the whole thread is read; a task's thread is short.
 */
async function answerTo(api: TaskflowClient, id: number, asker: string): Promise<Comment | null> {
  let answer: Comment | null = null;
  for await (const page of followPages((cursor) =>
    api.GET('/api/tasks/{id}/comments', {
      params: { path: { id }, query: { limit: COMMENTS.limit.maximum, cursor } },
    }),
  )) {
    for (const comment of page.items) {
      if (comment.kind === 'question' && comment.author_id === asker) answer = null;
      if (comment.kind === 'answer' && comment.author_id !== asker) answer = comment;
    }
  }
  return answer;
}

/**
 * The collab group: what an agent says to the people (and agents) it works with on a task, and
 * what its work produced.
 */
export function registerCollabTools(server: McpServer, ctx: ToolContext): void {
  const { api } = ctx;

  register(
    server,
    ctx,
    'comment_task',
    {
      title: 'Comment on a task',
      description:
        "Add a comment to a task's thread (append-only: to correct one, comment again). kind says what it is: note (default), handoff (for whoever takes it next), question, answer (clears the task's awaiting_input when it answers someone else's question) or decision.",
      input: {
        id: taskId(),
        body: text(COMMENT.body)
          .regex(/\S/, 'body must not be blank')
          .describe(`The text, ${COMMENT.body.minLength}–${COMMENT.body.maxLength} characters`),
        kind: z
          .enum(enums.CommentKind)
          .optional()
          .describe('note (default), handoff, question, answer or decision'),
        reply_to: integer({ minimum: COMMENT.reply_to.minimum }, 'reply_to')
          .optional()
          .describe('Id of the comment of the same task this one replies to'),
        idempotency_key: idempotencyKey(),
      },
      annotations: MOVE,
    },
    async ({ id, idempotency_key, ...body }) =>
      (
        await unwrap(
          api.POST('/api/tasks/{id}/comments', {
            params: { path: { id }, header: keyHeader(idempotency_key) },
            body,
          }),
        )
      ).data,
  );

  register(
    server,
    ctx,
    'list_comments',
    {
      title: "Read a task's comments",
      description:
        "A task's thread, oldest first: notes, hand-offs, questions and answers, decisions, each with author_id and author_type (human or agent). For the next page call again with cursor set to next_cursor, until it is null.",
      input: {
        id: taskId(),
        limit: integer(COMMENTS.limit, 'limit')
          .optional()
          .describe(`Page size, ${COMMENTS.limit.minimum}–${COMMENTS.limit.maximum} (default 50)`),
        cursor: z
          .string()
          .min(1)
          .max(COMMENTS.cursor.maxLength)
          .optional()
          .describe('next_cursor of the previous page'),
      },
      annotations: READ,
    },
    async ({ id, ...query }) => {
      const page = await unwrapPage(
        api.GET('/api/tasks/{id}/comments', { params: { path: { id }, query } }),
      );
      return { task_id: id, total: page.total, next_cursor: page.next, comments: page.items };
    },
  );

  register(
    server,
    ctx,
    'ask_human',
    {
      title: 'Ask a person',
      description: `Put a question to the people on a task you hold (in_progress): it becomes a question comment, the task shows awaiting_input and appears in their inbox, and your lease does not run out meanwhile. With wait_seconds (≤ ${MAX_WAIT_SECONDS}) it waits for the answer and returns it; without, or when none came in time, read it later with list_comments (get_task shows awaiting_input false once answered).`,
      input: {
        id: taskId(),
        question: text(schemaLimits.AskDto.question)
          .regex(/\S/, 'question must not be blank')
          .describe(
            `The question, self-contained (the person may not know the task), up to ${schemaLimits.AskDto.question.maxLength} characters`,
          ),
        wait_seconds: integer({ minimum: 0, maximum: MAX_WAIT_SECONDS }, 'wait_seconds')
          .optional()
          .describe(
            `How long to wait for the answer, 0–${MAX_WAIT_SECONDS} seconds (default 0: return at once)`,
          ),
      },
      annotations: MOVE,
    },
    async ({ id, question, wait_seconds = 0 }, call) => {
      const asked = (
        await unwrap(
          api.POST('/api/tasks/{id}/ask', { params: { path: { id } }, body: { question } }),
        )
      ).data;
      if (wait_seconds === 0) return { task: asked, answer: null };
      const answered = async () => {
        const { data: task } = await unwrap(
          api.GET('/api/tasks/{id}', { params: { path: { id } } }),
        );
        return task.awaiting_input ? null : task;
      };
      const task = await waitFor(api, answered, wait_seconds * 1000, {
        query: { task_id: id },
        wakeOn: () => true,
        progress: waitProgress(ctx, call, 'waiting for an answer'),
      });
      if (!task) {
        return {
          task: asked,
          answer: null,
          message: `no answer within ${wait_seconds} s; the question stands (do not ask again): get_task later shows awaiting_input false once answered, and list_comments the answer`,
        };
      }
      return { task, answer: await answerTo(api, id, asked.assigned_to!) };
    },
  );

  register(
    server,
    ctx,
    'add_artifact',
    {
      title: 'Add a result to a task',
      description:
        "Record what the work produced on the task: a pull request, a commit, a URL, a file or a log (the same url again replaces that entry). For the assignee and the project's writers. Returns the task with its artifacts.",
      input: { id: taskId(), ...artifactFields },
      annotations: { ...MOVE, idempotentHint: true },
    },
    async ({ id, ...body }) =>
      (await unwrap(api.POST('/api/tasks/{id}/artifacts', { params: { path: { id } }, body })))
        .data,
  );
}

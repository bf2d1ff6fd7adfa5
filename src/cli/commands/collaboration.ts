import { Command, Option } from 'commander';
import { enums } from '../../client/contract';
import type { ArtifactKind, CommentKind } from '../../client/taskflow-client';
import { integer } from '../arguments';
import { action, type CliContext } from '../context';
import { commentDetails, commentTable, inboxTable, taskDetails } from '../views';

interface PageOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** `POST …/comments`, the comment printed. */
function postComment(
  cli: CliContext,
  id: number,
  body: { body: string; kind?: CommentKind; reply_to?: number },
): Promise<void> {
  return cli.show(
    (api) => api.POST('/api/tasks/{id}/comments', { params: { path: { id } }, body }),
    commentDetails,
  );
}

/** What people and agents say to each other on a task, what it produced, and what waits on me. */
export function registerCollaborationCommands(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('comment')
    .description("add a comment to a task's thread (append-only: a correction is a new comment)")
    .argument('<id>', 'task id', integer)
    .argument('<text>', 'the comment')
    .addOption(new Option('--kind <kind>', 'what it is (default note)').choices(enums.CommentKind))
    .option('--reply-to <comment-id>', 'the comment of the same task it replies to', integer)
    .action(
      action(env, (cli, id: number, text: string, o: { kind?: CommentKind; replyTo?: number }) =>
        postComment(cli, id, { body: text, kind: o.kind, reply_to: o.replyTo }),
      ),
    );

  program
    .command('comments')
    .description("a task's thread, oldest first")
    .argument('<id>', 'task id', integer)
    .option('--limit <n>', 'at most this many (1-100, default 50)', integer)
    .option('--cursor <cursor>', 'start where the previous page ended')
    .option('--all', 'every page, following the cursors (--limit is the page size)')
    .action(
      action(env, (cli, id: number, o: PageOptions) =>
        cli.listByCursor(
          (api, cursor) =>
            api.GET('/api/tasks/{id}/comments', {
              params: { path: { id }, query: { limit: o.limit, cursor } },
            }),
          commentTable,
          'comments',
          { cursor: o.cursor, all: o.all },
        ),
      ),
    );

  program
    .command('ask')
    .description(
      'ask the people on a task you hold a question (the task waits for the answer, its lease held)',
    )
    .argument('<id>', 'task id', integer)
    .argument('<question>', 'the question')
    .action(
      action(env, (cli, id: number, question: string) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/ask', { params: { path: { id } }, body: { question } }),
          taskDetails,
        ),
      ),
    );

  program
    .command('answer')
    .description("answer a task's question (a comment of kind answer: clears awaiting input)")
    .argument('<id>', 'task id', integer)
    .argument('<text>', 'the answer')
    .option('--reply-to <comment-id>', 'the question it answers', integer)
    .action(
      action(env, (cli, id: number, text: string, o: { replyTo?: number }) =>
        postComment(cli, id, { body: text, kind: 'answer', reply_to: o.replyTo }),
      ),
    );

  const artifact = program
    .command('artifact')
    .description('what the work on a task produced: pull requests, commits, links, files, logs');

  artifact
    .command('add')
    .description('add an artifact to a task (the same URL again replaces it)')
    .argument('<id>', 'task id', integer)
    .argument('<url>', 'an http(s) URL')
    .addOption(new Option('--kind <kind>', 'what it is').choices(enums.ArtifactKind).default('url'))
    .option('--title <title>', 'what it is, in words')
    .action(
      action(env, (cli, id: number, url: string, o: { kind: ArtifactKind; title?: string }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/artifacts', {
              params: { path: { id } },
              body: { kind: o.kind, url, title: o.title },
            }),
          taskDetails,
        ),
      ),
    );

  artifact
    .command('remove')
    .description('remove the artifact with this URL from a task')
    .argument('<id>', 'task id', integer)
    .argument('<url>', 'its URL')
    .action(
      action(env, (cli, id: number, url: string) =>
        cli.show(
          (api) =>
            api.DELETE('/api/tasks/{id}/artifacts', {
              params: { path: { id }, query: { url } },
            }),
          taskDetails,
        ),
      ),
    );

  program
    .command('inbox')
    .description(
      'what waits on you, most urgent first: questions to answer, work to review, your own tasks',
    )
    .option('--limit <n>', 'at most this many (1-100, default 50)', integer)
    .option('--offset <n>', 'skip this many', integer)
    .action(
      action(env, (cli, o: { limit?: number; offset?: number }) =>
        cli.list(
          (api) =>
            api.GET('/api/inbox', { params: { query: { limit: o.limit, offset: o.offset } } }),
          inboxTable,
          'tasks',
        ),
      ),
    );
}

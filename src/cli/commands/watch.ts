import { Command, Option } from 'commander';
import { enums } from '../../client/contract';
import { followEvents } from '../../client/event-stream';
import { type ActorType, type AuditAction, type AuditEntry } from '../../client/taskflow-client';
import { integer } from '../arguments';
import { action } from '../context';
import { cell, print } from '../output';

interface WatchOptions {
  project?: string;
  task?: number;
  actorType?: ActorType;
  action?: AuditAction;
  after?: number;
}

/** One line per event: when, id, action, task, project, who (and what kind), the client. */
export function eventLine(e: AuditEntry): string {
  const time = new Date(e.timestamp).toISOString().replace('T', ' ').slice(0, 19);
  const task = e.task_id === null ? '' : ` task ${e.task_id}`;
  const project = e.project_slug === null ? '' : ` [${cell(e.project_slug)}]`;
  return `${time}  #${e.id}  ${e.action}${task}${project}  by ${cell(e.actor_id)} (${e.actor_type})`;
}

const log = (line: string) => process.stderr.write(`taskflow watch: ${line}\n`);

/** `taskflow watch`: the board's changes, live, until Ctrl-C. */
export function registerWatchCommand(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('watch')
    .description(
      'print changes as they happen (one line per audit entry; --json: one JSON entry per line), resuming after a dropped connection',
    )
    .option('--project <slug>', 'only this project')
    .option('--task <id>', 'only this task', integer)
    .addOption(
      new Option('--actor-type <type>', 'only this kind of actor').choices(enums.ActorType),
    )
    .addOption(new Option('--action <action>', 'only this action').choices(enums.AuditAction))
    .option('--after <id>', 'first replay every entry after this id (resume)', integer)
    .action(
      action(env, async (cli, o: WatchOptions) => {
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          await followEvents({
            // The client's login session renews its token before each request, reconnections included.
            client: () => cli.api(),
            query: {
              project: o.project,
              task_id: o.task,
              actor_type: o.actorType,
              action: o.action,
            },
            after: o.after,
            signal: abort.signal,
            onOpen: (after) =>
              log(after === undefined ? 'watching' : `watching, resumed after #${after}`),
            onEvent: (entry) => print(cli.json ? JSON.stringify(entry) : eventLine(entry)),
            onDisconnect: (why, delayMs) =>
              log(`disconnected (${why}); reconnecting in ${Math.round(delayMs / 100) / 10}s`),
          });
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      }),
    );
}

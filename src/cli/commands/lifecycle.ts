import { Command } from 'commander';
import { integer } from '../arguments';
import { action } from '../context';
import { taskDetails } from '../views';

type Transition = 'start' | 'review' | 'complete' | 'unblock' | 'release';

/** A lifecycle route that takes nothing but the task id. */
function transition(
  program: Command,
  env: NodeJS.ProcessEnv,
  name: Transition,
  description: string,
): void {
  const path = `/api/tasks/{id}/${name}` as const;
  program
    .command(name)
    .description(description)
    .argument('<id>', 'task id', integer)
    .action(
      action(env, (cli, id: number) =>
        cli.show((api) => api.POST(path, { params: { path: { id } } }), taskDetails),
      ),
    );
}

export function registerLifecycleCommands(program: Command, env: NodeJS.ProcessEnv): void {
  transition(program, env, 'start', 'claim a pending task and start it (assigns it to you)');

  program
    .command('progress')
    .description('report progress on a task in progress')
    .argument('<id>', 'task id', integer)
    .argument('<percent>', 'percent done, 0-100', integer)
    .option('--note <text>', 'what was done')
    .action(
      action(env, (cli, id: number, percent: number, o: { note?: string }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/progress', {
              params: { path: { id } },
              body: { percent, note: o.note },
            }),
          taskDetails,
        ),
      ),
    );

  transition(program, env, 'review', 'ask for review (in_progress → review)');
  transition(program, env, 'complete', 'complete a task (progress 100)');

  program
    .command('block')
    .description('mark a task blocked')
    .argument('<id>', 'task id', integer)
    .option('--reason <text>', 'why it is blocked')
    .action(
      action(env, (cli, id: number, o: { reason?: string }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/block', {
              params: { path: { id } },
              body: { reason: o.reason },
            }),
          taskDetails,
        ),
      ),
    );

  transition(program, env, 'unblock', 'unblock a task (in_progress when assigned, else pending)');
  transition(program, env, 'release', 'give a task back (in_progress → pending, unassigned)');
}

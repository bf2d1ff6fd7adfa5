import { Command, Option } from 'commander';
import { enums } from '../../client/contract';
import type { TaskPriority } from '../../client/taskflow-client';
import { integer } from '../arguments';
import { action } from '../context';
import { taskDetails } from '../views';

/** Moves that take a hand-off note; the others take nothing but the task id. */
const HANDOFFS = ['review', 'complete', 'release'] as const;
type Transition = 'approve' | 'unblock' | 'reopen' | 'retry' | (typeof HANDOFFS)[number];

const lease = (value: string): number => integer(value);

const NOTE_HELP =
  "a hand-off note for whoever comes next (kept as a handoff comment, shown as the task's last hand-off)";

/** A lifecycle route that takes the task id and, for a hand-off, `--note`. */
function transition(
  program: Command,
  env: NodeJS.ProcessEnv,
  name: Transition,
  description: string,
): void {
  const path = `/api/tasks/{id}/${name}` as const;
  const command = program
    .command(name)
    .description(description)
    .argument('<id>', 'task id', integer);
  const takesNote = (HANDOFFS as readonly string[]).includes(name);
  if (takesNote) command.option('--note <text>', NOTE_HELP);
  command.action(
    action(env, (cli, id: number, o: { note?: string }) =>
      cli.show(
        (api) =>
          api.POST(path, {
            params: { path: { id } },
            body: takesNote ? { note: o.note } : undefined,
          }),
        taskDetails,
      ),
    ),
  );
}

export function registerLifecycleCommands(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('start')
    .description('claim a pending task and start it (assigns it to you)')
    .argument('<id>', 'task id', integer)
    .option('--lease <seconds>', 'hold it this long unless renewed (taskflow heartbeat)', lease)
    .action(
      action(env, (cli, id: number, o: { lease?: number }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/start', {
              params: { path: { id } },
              body: { lease_seconds: o.lease },
            }),
          taskDetails,
        ),
      ),
    );

  program
    .command('next')
    .description('claim the best task available to you (priority, then due date); nothing if none')
    .option('--project <slug>', 'only this project')
    .addOption(
      new Option('--min-priority <priority>', 'only at least this priority').choices(
        enums.TaskPriority,
      ),
    )
    .option(
      '--capabilities <list>',
      'comma-separated; narrows your registered capabilities (default: all of them)',
    )
    .option('--lease <seconds>', 'hold it this long unless renewed (taskflow heartbeat)', lease)
    .action(
      action(
        env,
        async (
          cli,
          o: {
            project?: string;
            minPriority?: TaskPriority;
            capabilities?: string;
            lease?: number;
          },
        ) => {
          const { data } = await cli.call((api) =>
            api.POST('/api/tasks/claim-next', {
              body: {
                project: o.project,
                min_priority: o.minPriority,
                capabilities: o.capabilities?.split(',').map((c) => c.trim()),
                lease_seconds: o.lease,
              },
            }),
          );
          // 204: nothing to claim. Not an error: `--json` prints null.
          cli.emit(data ?? null, (task) =>
            task ? taskDetails(task) : 'nothing to claim right now',
          );
        },
      ),
    );

  program
    .command('heartbeat')
    .description('extend your lease on a task in progress')
    .argument('<id>', 'task id', integer)
    .option('--lease <seconds>', 'from now (default 300)', lease)
    .action(
      action(env, (cli, id: number, o: { lease?: number }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/heartbeat', {
              params: { path: { id } },
              body: { lease_seconds: o.lease },
            }),
          taskDetails,
        ),
      ),
    );

  program
    .command('depend')
    .description('make a task wait for another (it cannot start until that one is completed)')
    .argument('<id>', 'the task that waits', integer)
    .argument('<other-id>', 'the task it waits for', integer)
    .action(
      action(env, (cli, id: number, otherId: number) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/dependencies/{other_id}', {
              params: { path: { id, other_id: otherId } },
            }),
          taskDetails,
        ),
      ),
    );

  program
    .command('undepend')
    .description('stop a task waiting for another')
    .argument('<id>', 'the task that waits', integer)
    .argument('<other-id>', 'the task it waits for', integer)
    .action(
      action(env, async (cli, id: number, otherId: number) => {
        await cli.call((api) =>
          api.DELETE('/api/tasks/{id}/dependencies/{other_id}', {
            params: { path: { id, other_id: otherId } },
          }),
        );
        cli.emit(null, () => `task ${id} no longer waits for task ${otherId}`);
      }),
    );

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
  transition(program, env, 'complete', 'complete a task you hold (in_progress → completed)');
  transition(program, env, 'approve', "approve someone else's task in review (review → completed)");

  program
    .command('reject')
    .description("send someone else's task in review back to them (review → in_progress)")
    .argument('<id>', 'task id', integer)
    .requiredOption('--reason <text>', 'what must change before it can be approved')
    .action(
      action(env, (cli, id: number, o: { reason: string }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/reject', {
              params: { path: { id } },
              body: { reason: o.reason },
            }),
          taskDetails,
        ),
      ),
    );

  program
    .command('block')
    .description('mark a task blocked')
    .argument('<id>', 'task id', integer)
    .option('--reason <text>', 'why it is blocked')
    .option('--note <text>', NOTE_HELP)
    .action(
      action(env, (cli, id: number, o: { reason?: string; note?: string }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/block', {
              params: { path: { id } },
              body: { reason: o.reason, note: o.note },
            }),
          taskDetails,
        ),
      ),
    );

  transition(program, env, 'unblock', 'unblock a task (in_progress when assigned, else pending)');
  transition(program, env, 'release', 'give a task back (in_progress → pending, unassigned)');
  transition(program, env, 'reopen', 'reopen a completed task (completed → in_progress)');

  program
    .command('fail')
    .description(
      'report a failed attempt on a task you hold: back to pending after a backoff while attempts remain, else failed',
    )
    .argument('<id>', 'task id', integer)
    .requiredOption('--reason <text>', 'what went wrong')
    .option('--no-retry', 'another attempt would fail too: the task fails for good')
    .action(
      action(env, (cli, id: number, o: { reason: string; retry: boolean }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/fail', {
              params: { path: { id } },
              body: { reason: o.reason, retryable: o.retry },
            }),
          taskDetails,
        ),
      ),
    );
  transition(program, env, 'retry', 'give a failed task new attempts (failed → pending)');

  program
    .command('usage')
    .description('report what the work on a task you hold cost (tokens, dollars)')
    .argument('<id>', 'task id', integer)
    .requiredOption('--model <name>', 'the model that did the work')
    .requiredOption('--in <tokens>', 'input tokens', integer)
    .requiredOption('--out <tokens>', 'output tokens', integer)
    .option('--cost <usd>', 'what it cost in US dollars, e.g. 0.0123 (kept exact)')
    .action(
      action(env, (cli, id: number, o: { model: string; in: number; out: number; cost?: string }) =>
        cli.show(
          (api) =>
            api.POST('/api/tasks/{id}/usage', {
              params: { path: { id } },
              body: {
                model: o.model,
                input_tokens: o.in,
                output_tokens: o.out,
                cost_usd: o.cost,
              },
            }),
          taskDetails,
        ),
      ),
    );

  program
    .command('assign')
    .description('give a task to a worker (a hand-off, or a pre-assignment); "" unassigns')
    .argument('<id>', 'task id', integer)
    .argument('<worker>', 'worker id, or "" to unassign')
    .action(
      action(env, (cli, id: number, worker: string) =>
        cli.show(
          (api) =>
            api.PATCH('/api/tasks/{id}', {
              params: { path: { id } },
              body: { assigned_to: worker === '' ? null : worker },
            }),
          taskDetails,
        ),
      ),
    );
}

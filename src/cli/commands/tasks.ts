import { Command, Option } from 'commander';
import { enums, schemaLimits } from '../../client/contract';
import type { components, operations } from '../../client/schema';
import type { TaskPriority, TaskStatus } from '../../client/taskflow-client';
import { integer, orNull, text } from '../arguments';
import { action } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { print } from '../output';
import { taskDetails, taskTable } from '../views';

type ListQuery = NonNullable<operations['Tasks_list']['parameters']['query']>;
type CreateBody = components['schemas']['CreateTaskDto'];
type UpdateBody = components['schemas']['UpdateTaskDto'];

interface ListOptions {
  status?: TaskStatus;
  priority?: TaskPriority;
  assignedTo?: string;
  mine?: boolean;
  project?: string;
  parent?: number;
  q?: string;
  tag?: string[];
  anyTag?: string[];
  completedSince?: string;
  completedUntil?: string;
  sort?: string;
  limit?: number;
  offset?: number;
  cursor?: string;
  all?: boolean;
}

interface FieldOptions {
  title?: string;
  description?: string | null;
  status?: TaskStatus;
  priority?: TaskPriority;
  project?: string | null;
  parent?: number | null;
  due?: string | null;
  assign?: string | null;
  tag?: string[];
  /** `--no-tags` on `edit`: commander sets it false. */
  tags?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The options `add` and `edit` share; an empty value clears a field on `edit`. */
function withFieldOptions(command: Command): Command {
  return command
    .option('--description <text>', 'description', orNull(text))
    .addOption(new Option('--priority <priority>', 'priority').choices(enums.TaskPriority))
    .option('--project <slug>', 'project slug', orNull(text))
    .option('--parent <id>', 'parent task id', orNull(integer))
    .option('--due <date>', 'due date, ISO 8601 (e.g. 2026-12-01T17:00:00Z)', orNull(text))
    .option('--assign <worker>', 'assign to this worker id', orNull(text))
    .option('--tag <tag>', "a tag (repeat for several; replaces the task's tags)", collect);
}

/** Undefined fields are left out of the JSON body, so only what was given changes. */
function fields(o: FieldOptions): Omit<UpdateBody, 'status'> {
  return {
    title: o.title,
    description: o.description,
    priority: o.priority,
    project_slug: o.project,
    parent_id: o.parent,
    due_date: o.due,
    assigned_to: o.assign,
    tags: o.tags === false ? [] : o.tag,
  };
}

export function registerTaskCommands(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command('list')
    .description('list tasks (filters combine with AND)')
    .addOption(new Option('--status <status>', 'only this status').choices(enums.TaskStatus))
    .addOption(
      new Option('--priority <priority>', 'only this priority').choices(enums.TaskPriority),
    )
    .option('--assigned-to <worker>', 'only tasks assigned to this worker id')
    .addOption(new Option('--mine', 'only tasks assigned to me').conflicts('assignedTo'))
    .option('--project <slug>', 'only this project')
    .option('--parent <id>', 'only the direct subtasks of this task', integer)
    .option('--q <text>', 'text in the title or description')
    .option('--tag <tag>', 'only tasks with this tag (repeat: all of them)', collect)
    .option('--any-tag <tag>', 'only tasks with at least one of these tags (repeat)', collect)
    .option('--completed-since <time>', 'only tasks completed at or after this instant')
    .option('--completed-until <time>', 'only tasks completed before this instant')
    .option(
      '--sort <field>',
      'id, created_at, updated_at, priority or due_date; a leading - sorts descending',
    )
    .option('--limit <n>', 'at most this many (1-100, default 50)', integer)
    .option('--offset <n>', 'skip this many (slow deep in a big list: prefer --cursor)', integer)
    .addOption(
      new Option('--cursor <cursor>', 'start where the previous page ended').conflicts('offset'),
    )
    .addOption(
      new Option('--all', 'every page, following the cursors (--limit is the page size)').conflicts(
        'offset',
      ),
    )
    .action(
      action(env, async (cli, o: ListOptions) => {
        const mine = o.mine ? (await cli.call((api) => api.GET('/api/me'))).data.id : undefined;
        const query: ListQuery = {
          status: o.status,
          priority: o.priority,
          assigned_to: mine ?? o.assignedTo,
          project: o.project,
          parent_id: o.parent,
          q: o.q,
          tag: o.tag,
          any_tag: o.anyTag,
          completed_since: o.completedSince,
          completed_until: o.completedUntil,
          // Any text: the API's 422 lists the valid sorts.
          sort: o.sort as ListQuery['sort'],
          limit: o.limit,
          offset: o.offset,
        };
        await cli.listByCursor(
          (api, cursor) => api.GET('/api/tasks', { params: { query: { ...query, cursor } } }),
          taskTable,
          'tasks',
          { cursor: o.cursor, all: o.all },
        );
      }),
    );

  program
    .command('show')
    .description('show one task')
    .argument('<id>', 'task id', integer)
    .action(
      action(env, (cli, id: number) =>
        cli.show((api) => api.GET('/api/tasks/{id}', { params: { path: { id } } }), taskDetails),
      ),
    );

  withFieldOptions(
    program
      .command('add')
      .description('create a task')
      .argument('<title>', 'task title')
      .addOption(
        new Option('--status <status>', 'initial status (default pending)').choices(
          schemaLimits.CreateTaskDto.status.enum,
        ),
      ),
  ).action(
    action(env, (cli, title: string, o: FieldOptions & { status?: CreateBody['status'] }) => {
      const body: CreateBody = { ...fields(o), status: o.status, title };
      return cli.show((api) => api.POST('/api/tasks', { body }), taskDetails);
    }),
  );

  withFieldOptions(
    program
      .command('edit')
      .description('change some fields of a task; "" clears an optional field')
      .argument('<id>', 'task id', integer)
      .option('--title <title>', 'new title')
      .option('--no-tags', 'remove every tag')
      .option(
        '--if-version <n>',
        'only if the task is still at this version (as `show` printed it); else exit 5 and nothing changes',
        integer,
      )
      .addOption(
        new Option(
          '--status <status>',
          'new status, by the move that reaches it (start, review, approve…) and its rules',
        ).choices(enums.TaskStatus),
      ),
  ).action(
    action(env, async (cli, id: number, o: FieldOptions & { ifVersion?: number }) => {
      const body = { ...fields(o), status: o.status };
      if (Object.values(body).every((value) => value === undefined)) {
        throw new CliError('nothing to change: give at least one field option', ExitCode.Usage);
      }
      // The task's ETag is "<id>-<version>": the API refuses the edit (412) if anyone changed
      // the task since that version was read, so two editors never overwrite each other.
      const header = o.ifVersion === undefined ? {} : { 'If-Match': `"${id}-${o.ifVersion}"` };
      const patch = { params: { path: { id }, header }, body: body satisfies UpdateBody };
      await cli.show((api) => api.PATCH('/api/tasks/{id}', patch), taskDetails);
    }),
  );

  program
    .command('delete')
    .description('delete a task (refused while it has subtasks)')
    .argument('<id>', 'task id', integer)
    .action(
      action(env, async (cli, id: number) => {
        await cli.call((api) => api.DELETE('/api/tasks/{id}', { params: { path: { id } } }));
        // 204: there is no JSON to print.
        if (!cli.json) print(`Deleted task ${id}.`);
      }),
    );
}

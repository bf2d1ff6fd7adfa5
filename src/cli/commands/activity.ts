import { Command, Option } from 'commander';
import { enums } from '../../client/contract';
import type { AuditAction, WorkerType } from '../../client/taskflow-client';
import { integer } from '../arguments';
import { action } from '../context';
import { CliError, ExitCode } from '../exit-codes';
import { auditTable, auditVerification, statsTable, workerTable } from '../views';

interface AuditOptions {
  actor?: string;
  action?: AuditAction;
  since?: string;
  until?: string;
  limit?: number;
  offset?: number;
}

/** Who did what: the audit log and the worker registry. */
export function registerActivityCommands(program: Command, env: NodeJS.ProcessEnv): void {
  const audit = program
    .command('audit')
    .description('the audit log, oldest first: every change, who made it, human or agent')
    .argument('[task-id]', 'only this task', integer)
    .option('--actor <worker>', 'only this actor (worker id)')
    .addOption(new Option('--action <action>', 'only this action').choices(enums.AuditAction))
    .option('--since <time>', 'at or after this instant (ISO 8601)')
    .option('--until <time>', 'before this instant (ISO 8601)')
    .option('--limit <n>', 'at most this many (1-100, default 50)', integer)
    .option('--offset <n>', 'skip this many', integer)
    .action(
      action(env, (cli, taskId: number | undefined, o: AuditOptions) => {
        const query = {
          task_id: taskId,
          actor_id: o.actor,
          action: o.action,
          since: o.since,
          until: o.until,
          limit: o.limit,
          offset: o.offset,
        };
        return cli.list(
          (api) => api.GET('/api/audit', { params: { query } }),
          auditTable,
          'entries',
        );
      }),
    );

  // `--since` is the parent's option: commander gives `audit` its own options wherever they
  // appear on the line, so `audit verify --since …` arrives there.
  audit
    .command('verify')
    .description(
      'recompute the audit hash chains (admins); exit 0 when intact, 6 when an entry was tampered with',
    )
    .argument('[task-id]', 'only this task', integer)
    .action(
      action(env, async (cli, taskId: number | undefined) => {
        const { since } = cli.options<{ since?: string }>();
        const { data } = await cli.call((api) =>
          api.GET('/api/audit/verify', { params: { query: { task_id: taskId, since } } }),
        );
        cli.emit(data, auditVerification);
        if (!data.ok) {
          const broken = data.first_broken!;
          throw new CliError(
            `audit chain broken at entry ${broken.id} (${broken.reason})`,
            ExitCode.AuditBroken,
          );
        }
      }),
    );

  program
    .command('stats')
    .description(
      "people's and agents' work compared: completions, cycle times, rejections, failures, cost",
    )
    .option('--project <slug>', 'only this project')
    .option('--since <time>', 'at or after this instant (ISO 8601; default 30 days ago)')
    .option('--until <time>', 'before this instant (ISO 8601; default now)')
    .addOption(
      new Option('--by <grouping>', 'one row per actor type or per worker')
        .choices(['actor_type', 'worker'])
        .default('actor_type'),
    )
    .action(
      action(
        env,
        async (
          cli,
          o: { project?: string; since?: string; until?: string; by: 'actor_type' | 'worker' },
        ) => {
          const query = { project: o.project, since: o.since, until: o.until, group_by: o.by };
          const { data } = await cli.call((api) =>
            api.GET('/api/analytics/summary', { params: { query } }),
          );
          cli.emit(data, statsTable);
        },
      ),
    );

  program
    .command('workers')
    .description('the registered workers (humans and agents)')
    .addOption(new Option('--type <type>', 'only this type').choices(enums.WorkerType))
    .action(
      action(env, (cli, o: { type?: WorkerType }) =>
        cli.list(
          (api) => api.GET('/api/workers', { params: { query: { type: o.type } } }),
          workerTable,
          'workers',
        ),
      ),
    );
}

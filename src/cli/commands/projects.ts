import { Command, Option } from 'commander';
import { enums } from '../../client/contract';
import type { components } from '../../client/schema';
import { integer, orNull, text } from '../arguments';
import { action } from '../context';
import { print } from '../output';
import { memberTable, projectDetails, projectTable } from '../views';

type Role = components['schemas']['SetMemberDto']['role'];
type ReviewPolicy = components['schemas']['ReviewPolicy'];

const reviewPolicy = () =>
  new Option(
    '--review-policy <policy>',
    "who signs off an agent's work: other (anyone but its assignee) or human (a person only)",
  ).choices(enums.ReviewPolicy);
const ROLES: readonly Role[] = ['owner', 'member', 'viewer'];

/** Projects: who sees and changes which tasks. */
export function registerProjectCommands(program: Command, env: NodeJS.ProcessEnv): void {
  const project = program
    .command('project')
    .description('projects and their members (who sees and changes which tasks)');

  project
    .command('create')
    .description('create a project; you become its first owner')
    .argument('<slug>', 'lowercase letters, digits and dashes (the id tasks use)')
    .requiredOption('--name <name>', 'display name')
    .option('--description <text>', 'description', text)
    .option('--private', 'only members see its tasks (default: every signed-in user reads them)')
    .addOption(reviewPolicy())
    .action(
      action(
        env,
        (
          cli,
          slug: string,
          o: { name: string; description?: string; private?: boolean; reviewPolicy?: ReviewPolicy },
        ) => {
          const body = {
            slug,
            name: o.name,
            description: o.description,
            visibility: o.private ? ('private' as const) : ('internal' as const),
            review_policy: o.reviewPolicy,
          };
          return cli.show((api) => api.POST('/api/projects', { body }), projectDetails);
        },
      ),
    );

  project
    .command('list')
    .description('the projects you can see')
    .option('--limit <n>', 'at most this many (1-100, default 50)', integer)
    .option('--offset <n>', 'skip this many', integer)
    .action(
      action(env, (cli, o: { limit?: number; offset?: number }) =>
        cli.list(
          (api) => api.GET('/api/projects', { params: { query: o } }),
          projectTable,
          'projects',
        ),
      ),
    );

  project
    .command('show')
    .description('show one project')
    .argument('<slug>', 'project slug')
    .action(
      action(env, (cli, slug: string) =>
        cli.show(
          (api) => api.GET('/api/projects/{slug}', { params: { path: { slug } } }),
          projectDetails,
        ),
      ),
    );

  project
    .command('edit')
    .description('change a project (owners and admins)')
    .argument('<slug>', 'project slug')
    .option('--name <name>', 'display name')
    .option('--description <text>', 'description; "" clears it', orNull(text))
    .addOption(
      new Option('--visibility <visibility>', 'who reads its tasks').choices([
        'internal',
        'private',
      ]),
    )
    .addOption(reviewPolicy())
    .action(
      action(
        env,
        (
          cli,
          slug: string,
          {
            reviewPolicy,
            ...o
          }: {
            name?: string;
            description?: string | null;
            visibility?: 'internal' | 'private';
            reviewPolicy?: ReviewPolicy;
          },
        ) =>
          cli.show(
            (api) =>
              api.PATCH('/api/projects/{slug}', {
                params: { path: { slug } },
                body: { ...o, review_policy: reviewPolicy },
              }),
            projectDetails,
          ),
      ),
    );

  project
    .command('members')
    .description("a project's members and their roles")
    .argument('<slug>', 'project slug')
    .option('--limit <n>', 'at most this many (1-100, default 50)', integer)
    .option('--offset <n>', 'skip this many', integer)
    .action(
      action(env, (cli, slug: string, o: { limit?: number; offset?: number }) =>
        cli.list(
          (api) =>
            api.GET('/api/projects/{slug}/members', { params: { path: { slug }, query: o } }),
          memberTable,
          'members',
        ),
      ),
    );

  project
    .command('add-member')
    .description('add a member, or change its role (owners and admins)')
    .argument('<slug>', 'project slug')
    .argument('<worker>', 'worker id (the JWT sub of a person or an agent)')
    .addOption(
      new Option('--role <role>', 'owner, member or viewer').choices(ROLES).default('member'),
    )
    .action(
      action(env, (cli, slug: string, worker: string, o: { role: Role }) =>
        cli.show(
          (api) =>
            api.POST('/api/projects/{slug}/members', {
              params: { path: { slug } },
              body: { worker_id: worker, role: o.role },
            }),
          (member) => memberTable([member]),
        ),
      ),
    );

  project
    .command('remove-member')
    .description('remove a member (owners and admins; anyone may leave)')
    .argument('<slug>', 'project slug')
    .argument('<worker>', 'worker id')
    .action(
      action(env, async (cli, slug: string, worker: string) => {
        await cli.call((api) =>
          api.DELETE('/api/projects/{slug}/members/{worker_id}', {
            params: { path: { slug, worker_id: worker } },
          }),
        );
        if (!cli.json) print(`Removed ${worker} from ${slug}.`);
      }),
    );
}

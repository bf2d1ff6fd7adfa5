import { Command, Option } from 'commander';
import { collect, expiry } from '../arguments';
import { action } from '../context';
import { print } from '../output';
import { createdKeyDetails, keyTable } from '../views';

const SCOPES = ['read', 'write'] as const;

/** API keys: a worker's own credentials (an agent's service account, a person's scripts). */
export function registerKeyCommands(program: Command, env: NodeJS.ProcessEnv): void {
  const keys = program
    .command('keys')
    .description("a worker's API keys (admins for any worker, a worker for itself)");

  keys
    .command('create')
    .description('create an API key; it is shown once')
    .argument('<worker>', 'worker id (the JWT sub of a registered person or agent)')
    .requiredOption('--name <name>', 'what the key is for (1-100 characters)')
    .addOption(
      new Option('--scope <scope>', 'read or write; repeat for both (default: both)')
        .choices(SCOPES)
        .argParser(collect),
    )
    .option('--project <slug>', 'limit the key to this project; repeat for more', collect)
    .option('--expires <lifetime>', 'e.g. 30d, 12h or a timestamp (default: 90 days)', expiry)
    .action(
      action(
        env,
        (
          cli,
          worker: string,
          o: { name: string; scope?: ('read' | 'write')[]; project?: string[]; expires?: string },
        ) =>
          cli.show(
            (api) =>
              api.POST('/api/workers/{id}/keys', {
                params: { path: { id: worker } },
                body: { name: o.name, scopes: o.scope, projects: o.project, expires_at: o.expires },
              }),
            createdKeyDetails,
          ),
      ),
    );

  keys
    .command('list')
    .description("a worker's keys that are not revoked (never the keys themselves)")
    .argument('<worker>', 'worker id')
    .action(
      action(env, (cli, worker: string) =>
        cli.show(
          (api) => api.GET('/api/workers/{id}/keys', { params: { path: { id: worker } } }),
          (items) => (items.length ? keyTable(items) : 'no keys'),
        ),
      ),
    );

  keys
    .command('revoke')
    .description('revoke a key: every replica refuses it within seconds')
    .argument('<worker>', 'worker id')
    .argument('<key_id>', 'key id (from `taskflow keys list`)')
    .action(
      action(env, async (cli, worker: string, keyId: string) => {
        await cli.call((api) =>
          api.DELETE('/api/workers/{id}/keys/{key_id}', {
            params: { path: { id: worker, key_id: keyId } },
          }),
        );
        if (!cli.json) print(`Revoked key ${keyId} of ${worker}.`);
      }),
    );
}

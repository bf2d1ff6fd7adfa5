import { Command } from 'commander';
import { version } from '../../package.json';
import { registerAccountCommands } from './commands/account';
import { registerActivityCommands } from './commands/activity';
import { registerCollaborationCommands } from './commands/collaboration';
import { registerKeyCommands } from './commands/keys';
import { registerLifecycleCommands } from './commands/lifecycle';
import { registerProjectCommands } from './commands/projects';
import { registerTaskCommands } from './commands/tasks';
import { registerWatchCommand } from './commands/watch';
import { exitCodesHelp } from './exit-codes';

const ENVIRONMENT_HELP = `Environment:
  TASKFLOW_URL     API base URL (wins over the config file; default http://localhost:8000)
  TASKFLOW_TOKEN   JWT (wins over the config file)
  TASKFLOW_CONFIG  config file written by \`taskflow login\` (default ~/.config/taskflow/config.json)`;

export function buildProgram(env: NodeJS.ProcessEnv): Command {
  const program = new Command()
    .name('taskflow')
    .description('The TaskFlow task board from the command line.')
    .version(version)
    .option('--json', "print the API's JSON instead of a table (for scripts)")
    .option(
      '--idempotency-key <key>',
      'send this Idempotency-Key with the command (retrying with the same key applies it once)',
    )
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    // Before any subcommand exists, so they inherit it: usage errors must reach main's exit codes.
    .exitOverride()
    .addHelpText('after', `\n${ENVIRONMENT_HELP}\n\nExit codes:\n${exitCodesHelp()}\n`);

  registerTaskCommands(program, env);
  registerLifecycleCommands(program, env);
  registerCollaborationCommands(program, env);
  registerProjectCommands(program, env);
  registerActivityCommands(program, env);
  registerWatchCommand(program, env);
  registerAccountCommands(program, env);
  registerKeyCommands(program, env);
  return program;
}

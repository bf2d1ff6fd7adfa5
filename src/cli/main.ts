#!/usr/bin/env node
import { CommanderError } from 'commander';
import { exitCodeFor, ExitCode } from './exit-codes';
import { errorMessage } from './output';
import { buildProgram } from './program';

/** Runs one command line; resolves to the exit code instead of exiting, so stdout can drain. */
export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<ExitCode> {
  try {
    await buildProgram(env).parseAsync(argv);
    return ExitCode.Success;
  } catch (error) {
    // Commander has printed its usage errors (and --help) itself.
    if (!(error instanceof CommanderError)) process.stderr.write(`error: ${errorMessage(error)}\n`);
    return exitCodeFor(error);
  }
}

if (require.main === module) {
  // `taskflow list | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? ExitCode.Success);
  });
  void run(process.argv, process.env).then((code) => {
    process.exitCode = code;
  });
}

import { CommanderError } from 'commander';
import { BetterAuthError } from '../client/better-auth';
import { CredentialError } from '../client/credentials';
import { ApiError } from '../client/taskflow-client';

/**
 * The CLI's exit codes, in one place: `taskflow --help` and docs/cli.md show this table, and
 * every failure is mapped to a code here, so scripts can branch on them.
 */
export const ExitCode = {
  Success: 0,
  Failure: 1,
  Usage: 2,
  Auth: 3,
  NotFound: 4,
  Conflict: 5,
  AuditBroken: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

interface ExitCodeMeaning {
  code: ExitCode;
  meaning: string;
  /** The API's HTTP statuses that end the CLI with this code. */
  statuses?: readonly number[];
}

export const EXIT_CODES: readonly ExitCodeMeaning[] = [
  { code: ExitCode.Success, meaning: 'success' },
  { code: ExitCode.Failure, meaning: 'any other failure, including the API being unreachable' },
  {
    code: ExitCode.Usage,
    meaning: 'usage or validation error (bad arguments; API 400, 413, 422)',
    statuses: [400, 413, 422],
  },
  {
    code: ExitCode.Auth,
    meaning: 'not authenticated or not allowed (no token configured; API 401, 403)',
    statuses: [401, 403],
  },
  { code: ExitCode.NotFound, meaning: 'not found (API 404)', statuses: [404] },
  {
    code: ExitCode.Conflict,
    meaning:
      'conflict (API 409: transition not allowed, task claimed by someone else…; 412: the task changed since --if-version)',
    statuses: [409, 412],
  },
  {
    code: ExitCode.AuditBroken,
    meaning: '`audit verify` found a broken audit chain (an entry edited, inserted or deleted)',
  },
];

/** A failure the CLI detects itself, before or instead of asking the API. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeForStatus(status: number | undefined): ExitCode {
  const entry = EXIT_CODES.find((e) => status !== undefined && e.statuses?.includes(status));
  return entry?.code ?? ExitCode.Failure;
}

export function exitCodeFor(error: unknown): ExitCode {
  // Commander has already printed its message; its own exit code is 0 for --help and --version.
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? ExitCode.Success : ExitCode.Usage;
  }
  if (error instanceof CliError) return error.exitCode;
  if (
    error instanceof ApiError ||
    error instanceof BetterAuthError ||
    error instanceof CredentialError
  ) {
    return exitCodeForStatus(error.status);
  }
  return ExitCode.Failure;
}

export function exitCodesHelp(): string {
  return EXIT_CODES.map((e) => `  ${e.code}  ${e.meaning}`).join('\n');
}

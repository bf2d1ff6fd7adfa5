import type { Command } from 'commander';
import { version } from '../../package.json';
import {
  type ApiResult,
  createTaskflowClient,
  followPages,
  type Page,
  TaskflowClient,
  unwrap,
  unwrapPage,
} from '../client/taskflow-client';
import { resolveConnection } from '../client/login-session';
import { CliError, ExitCode } from './exit-codes';
import { print } from './output';

/** What a command's action gets: the API client, the environment, and how to print. */
export class CliContext {
  private client?: Promise<TaskflowClient>;

  constructor(
    private readonly command: Command,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  get json(): boolean {
    return this.options<{ json?: boolean }>().json === true;
  }

  /** The command's options with those of every command above it. */
  options<T extends object>(): T {
    return this.command.optsWithGlobals<T>();
  }

  /** Once per command: its requests share the credentials, so a renewal happens once. */
  api(): Promise<TaskflowClient> {
    this.client ??= Promise.resolve().then(() => this.connect());
    return this.client;
  }

  /** Checked before any request: without a token every call would be a 401 anyway. */
  private connect(): TaskflowClient {
    const { baseUrl, credentials } = resolveConnection(this.env);
    if (!credentials) {
      throw new CliError(
        'not logged in: run `taskflow login`, or set TASKFLOW_API_KEY to an API key, or TASKFLOW_TOKEN to a JWT',
        ExitCode.Auth,
      );
    }
    const { idempotencyKey } = this.command.optsWithGlobals<{ idempotencyKey?: string }>();
    return createTaskflowClient({
      baseUrl,
      credentials,
      idempotencyKey,
      client: `taskflow-cli/${version}`,
    });
  }

  /** One API call through the typed client: its data, or an `ApiError` with the API's message. */
  async call<T>(
    request: (api: TaskflowClient) => Promise<ApiResult<T>>,
  ): Promise<{ data: T; response: Response }> {
    return unwrap(request(await this.api()));
  }

  /** One API call, its answer printed. */
  async show<T>(
    request: (api: TaskflowClient) => Promise<ApiResult<T>>,
    render: (data: T) => string,
  ): Promise<void> {
    this.emit((await this.call(request)).data, render);
  }

  /** One list call: a table and `N of TOTAL <noun>` (X-Total-Count). */
  async list<T>(
    request: (api: TaskflowClient) => Promise<ApiResult<T[]>>,
    render: (items: T[]) => string,
    noun: string,
  ): Promise<void> {
    const page = await unwrapPage(request(await this.api()));
    this.emitPage(page.items, page, render, noun);
  }

  /**
   * A list paged by cursor: one page from `cursor` (its next cursor printed for the human), or
   * with `all` every page, following each `next` cursor.
   */
  async listByCursor<T>(
    request: (api: TaskflowClient, cursor: string | undefined) => Promise<ApiResult<T[]>>,
    render: (items: T[]) => string,
    noun: string,
    { cursor, all = false }: { cursor?: string; all?: boolean },
  ): Promise<void> {
    const api = await this.api();
    const items: T[] = [];
    let last: Page<T> | undefined;
    for await (const page of followPages((at) => request(api, at), {
      cursor,
      maxPages: all ? Infinity : 1,
    })) {
      items.push(...page.items);
      last = page;
    }
    this.emitPage(items, all ? { ...last!, next: null } : last!, render, noun);
  }

  private emitPage<T>(
    items: T[],
    page: Pick<Page<T>, 'total' | 'totalEstimated' | 'next'>,
    render: (items: T[]) => string,
    noun: string,
  ): void {
    this.emit(items, () => {
      const total = `${page.totalEstimated ? 'about ' : ''}${page.total ?? items.length}`;
      const lines = [`${items.length} of ${total} ${noun}`];
      if (page.next) lines.push(`next page: --cursor ${page.next} (or --all)`);
      return [...(items.length ? [render(items)] : []), ...lines].join('\n');
    });
  }

  /** The API's JSON with `--json` (for scripts), else `render` for humans. */
  emit<T>(data: T, render: (data: T) => string): void {
    print(this.json ? JSON.stringify(data, null, 2) : render(data));
  }
}

/**
 * Adapts a handler to commander's `action(...args, options, command)` calling convention and
 * gives it a context bound to the command that runs.
 */
export function action<A extends unknown[]>(
  env: NodeJS.ProcessEnv,
  handler: (cli: CliContext, ...args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return (...args) => {
    const command = args[args.length - 1] as Command;
    return handler(new CliContext(command, env), ...(args.slice(0, -1) as A));
  };
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type {
  ServerNotification,
  ServerRequest,
  ToolAnnotations,
} from '@modelcontextprotocol/sdk/types.js';
// zod/v3, not zod: the SDK's types name zod/v3, and under this repo's node10 module resolution
// the two paths are distinct declarations whose cross-inference exceeds tsc's depth limit (TS2589).
import { z } from 'zod/v3';
import { enums, parameterLimits, schemaLimits } from '../client/contract';
import { ApiError, type TaskflowClient } from '../client/taskflow-client';
import { hintFor } from './hints';
import { apiFailure, ok, type ToolPayload, unexpectedFailure } from './results';
import type { WaitProgress } from './wait-for-task';

/*
 * What every tool group builds its tools from: the input pieces, bounded by the contract, and
 * `register`, which turns API failures into tool errors.
 */

export interface ToolContext {
  api: TaskflowClient;
  /** Only for messages: where the API was expected when it cannot be reached. */
  baseUrl: string;
  /** How often a waiting tool reports progress, in ms (default `PROGRESS_MS`; tests shorten it). */
  progressMs?: number;
}

/** What a tool's handler gets besides its arguments: the request's `_meta`, its notifications. */
export type ToolCall = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * Many MCP clients give up on a call after 60 s (the SDK client's default request timeout)
 * unless progress resets that timeout: four reports a minute reset it several times over, so one
 * late or lost report does not end a wait of up to `MAX_WAIT_SECONDS`, at 20 small notifications
 * per call at most.
 */
export const PROGRESS_MS = 15_000;

/**
 * Progress notifications for a waiting tool (`notifications/progress`), when the call asked for
 * them with a `progressToken`; without one, nothing is sent. A notification that cannot be sent
 * (the client has gone) is dropped: the wait ends on its own.
 */
export function waitProgress(
  ctx: ToolContext,
  call: ToolCall,
  message: string,
): WaitProgress | undefined {
  const progressToken = call._meta?.progressToken;
  if (progressToken === undefined) return undefined;
  return {
    everyMs: ctx.progressMs ?? PROGRESS_MS,
    report: (progress, total) => {
      call
        .sendNotification({
          method: 'notifications/progress',
          params: { progressToken, progress, total, message },
        })
        .catch(() => undefined);
    },
  };
}

// Every enum and limit below comes from openapi.json (src/client/contract.ts), so a tool
// refuses exactly what the API would.
const LIST = parameterLimits.Tasks_list.query;
const TASK_ID = parameterLimits.Tasks_findOne.path.id;
export const DEFAULT_PAGE_SIZE = 50;

/** A string within a contract's length limits. */
export const text = (limits: { minLength?: number; maxLength?: number }) => {
  const s = z.string();
  const min = limits.minLength === undefined ? s : s.min(limits.minLength);
  return limits.maxLength === undefined ? min : min.max(limits.maxLength);
};

/** An integer within a contract's range; `what` names it in the error message. */
export const integer = (limits: { minimum?: number; maximum?: number }, what: string) => {
  const range = `${what} must be ${limits.minimum ?? '…'}–${limits.maximum ?? '…'}`;
  const n = z.number().int(`${what} must be an integer`);
  const min = limits.minimum === undefined ? n : n.min(limits.minimum, range);
  return limits.maximum === undefined ? min : min.max(limits.maximum, range);
};

/** `limit`/`offset`, as every list route takes them. */
export const pagination = (items: string) => ({
  limit: integer(LIST.limit, 'limit')
    .optional()
    .describe(
      `Page size, ${LIST.limit.minimum}–${LIST.limit.maximum} (default ${DEFAULT_PAGE_SIZE})`,
    ),
  offset: integer(LIST.offset, 'offset')
    .optional()
    .describe(`How many ${items} to skip (default 0)`),
});

const LEASE = schemaLimits.LeaseBody.lease_seconds;
export const leaseSeconds = (note = 'Hold the task this long unless renewed with heartbeat_task') =>
  integer(LEASE, 'lease_seconds')
    .optional()
    .describe(`Lease in seconds, ${LEASE.minimum}–${LEASE.maximum}. ${note}`);

// openapi.json states the header's length; the printable-ASCII rule is the API's documented one.
const KEY = parameterLimits.Tasks_create.header['Idempotency-Key'];
const KEY_PATTERN = new RegExp(`^[\\x21-\\x7e]{${KEY.minLength},${KEY.maxLength}}$`);

export const idempotencyKey = () =>
  z
    .string()
    .regex(KEY_PATTERN, `${KEY.minLength} to ${KEY.maxLength} printable ASCII characters`)
    .optional()
    .describe(
      'Any unique string for this operation: if you retry it (say after a timeout) with the same key, it is applied once and you get the first answer back',
    );

export const keyHeader = (key: string | undefined) => (key ? { 'Idempotency-Key': key } : {});

export const taskId = () =>
  z
    .number()
    .int()
    .min(TASK_ID.minimum, 'id must be a positive integer')
    .max(TASK_ID.maximum)
    .describe('Task id (positive integer), as list_tasks and get_task return it');

/** A capability name: openapi.json states no length for it, so this is the API's 1–100. */
export const capability = () => z.string().min(1).max(100);

const ARTIFACT = schemaLimits.ArtifactInput;

/** The hand-off note `request_review`, `complete_task`, `release_task` and `block_task` take. */
export const handoffNote = (when: string) =>
  text(schemaLimits.HandoffBody.note)
    .optional()
    .describe(
      `A hand-off note for whoever picks the task up next (${when}): kept as a handoff comment and shown on the task as last_handoff; up to ${schemaLimits.HandoffBody.note.maxLength} characters`,
    );

/** One artifact, as `add_artifact` and the `artifacts` of a move take it. */
export const artifactFields = {
  kind: z.enum(enums.ArtifactKind).describe('pr, commit, url, file or log'),
  url: text({ minLength: 1, maxLength: ARTIFACT.url.maxLength })
    .url('url must be an http or https URL')
    .regex(/^https?:\/\//i, 'url must be an http or https URL')
    .describe(
      `An http(s) URL, up to ${ARTIFACT.url.maxLength} characters; a task holds one artifact per URL (the same URL again replaces it)`,
    ),
  title: text(ARTIFACT.title)
    .optional()
    .describe(`What it is, up to ${ARTIFACT.title.maxLength} characters`),
};

export const artifactList = () =>
  z
    .array(z.object(artifactFields).strict())
    .max(schemaLimits.ResultBody.artifacts.maxItems)
    .optional()
    .describe(
      'What the work produced (a pull request, commit, log…), added to the task with the move',
    );

export const READ: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };
export const MOVE: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};

export interface ToolSpec<S extends z.ZodRawShape> {
  title: string;
  description: string;
  input: S;
  annotations: ToolAnnotations;
  /** Added to an API error's text: what the agent should do about it (default: `hintFor`). */
  hint?: (error: ApiError, baseUrl: string) => string | undefined;
}

/**
 * Registers one tool whose handler returns the API's JSON, and turns every failure into a tool
 * error (`isError`) rather than a protocol error: a model sees tool errors and can act on them,
 * while protocol errors often reach only the runtime's logs.
 */
export function register<S extends z.ZodRawShape>(
  server: McpServer,
  ctx: ToolContext,
  name: string,
  spec: ToolSpec<S>,
  run: (args: z.infer<z.ZodObject<S>>, call: ToolCall) => Promise<ToolPayload>,
): void {
  type Args = z.infer<z.ZodObject<S>>;
  // Strict, as the API is: a misspelt field must fail, not be dropped and turn a change into a
  // no-op.
  const inputSchema = z.object(spec.input).strict();
  server.registerTool(
    name,
    {
      title: spec.title,
      description: spec.description,
      inputSchema,
      annotations: spec.annotations,
    },
    async (args: Args, call: ToolCall) => {
      try {
        return ok(await run(args, call));
      } catch (error) {
        if (!(error instanceof ApiError)) return unexpectedFailure(error);
        const hint = (spec.hint ?? hintFor)(error, ctx.baseUrl);
        return apiFailure(error, hint);
      }
    },
  );
}

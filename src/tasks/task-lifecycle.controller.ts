import { Body, Controller, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { ValidationFailedError } from '../common/errors/domain-errors';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiTaskIdParam } from '../common/openapi/api-params.decorator';
import { ParseIdPipe } from '../common/validation/id.pipe';
import type { FastifyReply } from 'fastify';
import { errorEnvelope, type ErrorEnvelope } from '../common/errors/error-envelope.filter';
import {
  BlockBody,
  FailBody,
  HeartbeatBody,
  UsageBody,
  BlockQuery,
  bodyOrQuery,
  ClaimNextBody,
  ClaimNextQuery,
  LeaseBody,
  LeaseQuery,
  ProgressBody,
  ProgressQuery,
  RejectBody,
  RejectQuery,
} from './dto/lifecycle.dto';
import { HandoffBody, ResultBody } from './dto/collaboration.dto';
import { DEFAULT_LEASE_SECONDS, TaskLifecycleService } from './task-lifecycle.service';
import { TaskConditionalRequests } from './task-etag';
import { Task } from './task.entity';

/** A result body as move options: a hand-off note and artifacts, when sent. */
const resultOptions = (body: ResultBody | undefined) => ({
  handoff: body?.note,
  artifacts: body?.artifacts,
});

const ASSIGNEE_ONLY = 'Only the assignee or an admin (else 403 `not_assignee`).';
const REVIEWER =
  "Anyone but the assignee, or an admin: the assignee gets 403 `reviewer_is_assignee`. Under a project's `review_policy: human`, the work of an agent is signed off by a person only: an agent gets 403 `human_review_required`.";
const DEPENDENCIES = '409 `dependency_unfinished` while a dependency is not completed.';
const HANDOFF =
  "An optional `note` is a hand-off note: kept as a `handoff` comment in the same transaction, named by the audit entry (`comment_id`) and shown as the task's `last_handoff`.";
const RESULTS =
  '`artifacts` are added to the task in the same transaction (409 `too_many_artifacts` beyond 50).';
const HUMAN_REVIEW =
  "Under a project's `review_policy: human`, a task held by an agent is completed only through review: 409 `review_required`.";
const QUERY_FORM =
  'The same fields are also accepted as query parameters (`?percent=60`), for older clients; a field sent in both with different values is a 422.';

/**
 * `POST /api/tasks/{id}/start|progress|review|approve|reject|complete|block|unblock|release|
 * reopen|heartbeat` and `POST /api/tasks/claim-next`: the routes the CLI (`taskflow start 1`,
 * `taskflow next`), the MCP server (`claim_task`, `claim_next_task`) and the web buttons share.
 * Each is one move of the move table (task-moves.ts), which `PATCH /api/tasks/{id}` and
 * `POST /api/tasks` go through as well.
 */
@ApiTags('task lifecycle')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@ApiBodyErrors()
@ApiErrors(404, 409, 422)
@TaskConditionalRequests()
@Controller('api/tasks')
export class TaskLifecycleController {
  constructor(private readonly lifecycle: TaskLifecycleService) {}

  @Post(':id/start')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('started')
  @ApiOperation({
    summary: 'Claim a task and start it',
    description:
      "`pending → in_progress`, assigned to the caller (a task pre-assigned to someone else: only they or an admin may start it, 403 `not_assignee`), with a lease if `lease_seconds` is given. The holder must have registered every `required_capabilities` entry (403 `capability_missing`). Also claims an in-progress task whose lease has expired: the expired lease counts as a failed attempt (`failed`, then `lease_expired`, then `started` in the audit log); when it was the last attempt the task becomes `failed` instead and the answer is 409 `task_failed`. Atomic: of many concurrent claims exactly one wins; the others get 409 `task_claimed`. 409 `dependency_unfinished` while a dependency is not completed; 409 `retry_later` (with `Retry-After`) before the task's `not_before`.",
  })
  @ApiBody({ type: LeaseBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  async start(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: LeaseQuery,
    @Body() body: LeaseBody,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Task | ErrorEnvelope> {
    const task = await this.lifecycle.start(id, user, bodyOrQuery(body, query).lease_seconds);
    if (task.status !== 'failed') return task;
    // The expired lease was the task's last attempt: that failure is recorded (and committed),
    // and nothing is taken over.
    reply.status(409);
    return errorEnvelope(
      409,
      `Task ${id}'s lease expired on its last attempt (${task.attempts} of ${task.max_attempts}); the task is now 'failed' and waits for a person to retry it`,
      'task_failed',
    );
  }

  @Post('claim-next')
  @HttpCode(200)
  @Audited('started')
  @ApiOperation({
    summary: 'Claim the best available task',
    description:
      'Atomically claims the best task the caller may start: in progress with an expired lease first, then pending tasks pre-assigned to the caller, then unassigned pending ones (never a task pre-assigned to someone else); with no unfinished dependency, and whose required capabilities the caller has registered (`capabilities` narrows that set, never widens it); highest priority first, then earliest due date, then lowest id. Concurrent callers each get a different task (no 409s). 204 when nothing is available. ' +
      QUERY_FORM,
  })
  @ApiBody({ type: ClaimNextBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task the caller now holds' })
  @ApiNoContentResponse({ description: 'Nothing to claim right now' })
  async claimNext(
    @Query() query: ClaimNextQuery,
    @Body() body: ClaimNextBody,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Task | undefined> {
    const input = bodyOrQuery<ClaimNextBody>(body, query);
    const task = await this.lifecycle.claimNext(
      user,
      {
        project: input.project,
        minPriority: input.min_priority,
        capabilities: input.capabilities,
      },
      input.lease_seconds,
    );
    if (!task) reply.status(204);
    return task;
  }

  @Post(':id/heartbeat')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('lease_extended')
  @ApiOperation({
    summary: 'Extend the lease of a task in progress',
    description: `The lease then runs \`lease_seconds\` (default ${DEFAULT_LEASE_SECONDS}) from now. Only the holder or an admin.`,
  })
  @ApiBody({ type: HeartbeatBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  heartbeat(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: LeaseQuery,
    @Body() body: HeartbeatBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    const input = bodyOrQuery<HeartbeatBody>(body, query);
    return this.lifecycle.heartbeat(id, user, input.lease_seconds, input.usage);
  }

  @Post(':id/usage')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('usage_reported')
  @ApiOperation({
    summary: 'Report what the work cost',
    description: `Adds the tokens and cost of one model's work to the task's \`usage\` (totals and \`by_model\`), audited \`usage_reported\`. Only \`in_progress\`. ${ASSIGNEE_ONLY} A report that leaves the task over \`budget_tokens\` (input plus output) or \`budget_usd\` is recorded, and the task is blocked in the same transaction (\`blocked\`, reason \`budget exceeded\`): the next report, heartbeat or progress is refused (409) until a person raises the budget and unblocks it.`,
  })
  @ApiBody({ type: UsageBody, required: true })
  @ApiOkResponse({ type: Task, description: 'The task after the report' })
  @ApiErrors(403)
  usage(
    @Param('id', ParseIdPipe) id: number,
    @Body() body: UsageBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.reportUsage(id, user, body);
  }

  @Post(':id/progress')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('progressed')
  @ApiOperation({
    summary: 'Report progress',
    description: `Only \`in_progress\`. ${ASSIGNEE_ONLY} ${QUERY_FORM}`,
  })
  @ApiBody({ type: ProgressBody, required: true })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  progress(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: ProgressQuery,
    @Body() body: ProgressBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    const { percent, note, usage } = bodyOrQuery<ProgressBody>(body, query);
    if (percent === undefined) {
      throw ValidationFailedError.field('percent', 'percent is required (query or JSON body)');
    }
    return this.lifecycle.progress(id, user, percent, note ?? null, usage);
  }

  @Post(':id/review')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('review_requested')
  @ApiOperation({
    summary: 'Ask for review',
    description: `\`in_progress → review\`. ${ASSIGNEE_ONLY} ${HANDOFF} ${RESULTS}`,
  })
  @ApiBody({ type: ResultBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  review(
    @Param('id', ParseIdPipe) id: number,
    @Body() body: ResultBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.move(id, 'review', user, resultOptions(body));
  }

  @Post(':id/complete')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('completed')
  @ApiOperation({
    summary: 'Complete a task',
    description: `\`in_progress → completed\`, progress 100. A task in review is completed by \`approve\`. ${ASSIGNEE_ONLY} ${HANDOFF} ${RESULTS} ${HUMAN_REVIEW}`,
  })
  @ApiBody({ type: ResultBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  complete(
    @Param('id', ParseIdPipe) id: number,
    @Body() body: ResultBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.move(id, 'complete', user, resultOptions(body));
  }

  @Post(':id/block')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('blocked')
  @ApiOperation({
    summary: 'Mark a task blocked',
    description: `\`pending\`, \`in_progress\` or \`review → blocked\`. The assignee or an admin; anyone while the task is unassigned. ${HANDOFF} ${QUERY_FORM}`,
  })
  @ApiBody({ type: BlockBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  block(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: BlockQuery,
    @Body() body: BlockBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.block(
      id,
      user,
      bodyOrQuery<BlockBody>(body, query).reason ?? null,
      body?.note,
    );
  }

  @Post(':id/unblock')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('unblocked')
  @ApiOperation({
    summary: 'Unblock a task',
    description: `\`blocked → in_progress\` when assigned, else \`pending\`. The assignee or an admin; anyone while the task is unassigned. Into \`in_progress\`: ${DEPENDENCIES}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  unblock(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.move(id, 'unblock', user);
  }

  @Post(':id/release')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('released')
  @ApiOperation({
    summary: 'Give a task back',
    description: `\`in_progress → pending\`, assignment cleared. ${ASSIGNEE_ONLY} ${HANDOFF} The next holder (claim-next included) reads it in \`last_handoff\`.`,
  })
  @ApiBody({ type: HandoffBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  release(
    @Param('id', ParseIdPipe) id: number,
    @Body() body: HandoffBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.move(id, 'release', user, { handoff: body?.note });
  }

  @Post(':id/fail')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('failed')
  @ApiOperation({
    summary: 'Report a failed attempt',
    description: `\`in_progress → pending\` (no holder, not offered again before \`not_before\`: exponential backoff with full jitter) when the failure is \`retryable\` and attempts remain (\`attempts < max_attempts\`), else \`→ failed\`, where it waits for a person to \`retry\` it. Counts one attempt and keeps \`reason\` as \`last_error\`. ${ASSIGNEE_ONLY}`,
  })
  @ApiBody({ type: FailBody, required: true })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  fail(
    @Param('id', ParseIdPipe) id: number,
    @Body() body: FailBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.move(id, 'fail', user, {
      reason: body.reason,
      retryable: body.retryable ?? true,
    });
  }

  @Post(':id/retry')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('retried')
  @ApiOperation({
    summary: 'Give a failed task another round of attempts',
    description:
      "`failed → pending`, with `attempts` back to 0 and no `not_before`. Any owner or member of the task's project (anyone on the shared board), or an admin.",
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  retry(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.move(id, 'retry', user);
  }

  @Post(':id/approve')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('approved')
  @ApiOperation({
    summary: 'Approve a task in review',
    description: `\`review → completed\`, progress 100. ${REVIEWER}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  approve(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.move(id, 'approve', user);
  }

  @Post(':id/reject')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('rejected')
  @ApiOperation({
    summary: 'Send a task in review back to work',
    description: `\`review → in_progress\`, still assigned, with the \`reason\` the assignee should act on. ${REVIEWER} ${QUERY_FORM}`,
  })
  @ApiBody({ type: RejectBody, required: true })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  reject(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: RejectQuery,
    @Body() body: RejectBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    const { reason } = bodyOrQuery<RejectBody>(body, query);
    if (reason === undefined) {
      throw ValidationFailedError.field('reason', 'reason is required (query or JSON body)');
    }
    return this.lifecycle.reject(id, user, reason);
  }

  @Post(':id/reopen')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('reopened')
  @ApiOperation({
    summary: 'Reopen a completed task',
    description: `\`completed → in_progress\`, still assigned. ${ASSIGNEE_ONLY} ${DEPENDENCIES}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  reopen(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.move(id, 'reopen', user);
  }
}

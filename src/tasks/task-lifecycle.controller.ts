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
import {
  BlockBody,
  BlockQuery,
  bodyOrQuery,
  ClaimNextBody,
  ClaimNextQuery,
  LeaseBody,
  LeaseQuery,
  ProgressBody,
  ProgressQuery,
} from './dto/lifecycle.dto';
import { DEFAULT_LEASE_SECONDS, TaskLifecycleService } from './task-lifecycle.service';
import { TaskConditionalRequests } from './task-etag';
import { Task } from './task.entity';

const ASSIGNEE_ONLY = 'On a task assigned to someone else: 403 unless the caller is an admin.';
const QUERY_FORM =
  'The same fields are also accepted as query parameters (`?percent=60`), for older clients; a field sent in both with different values is a 422.';

/**
 * `POST /api/tasks/{id}/start|progress|review|complete|block|unblock|release|heartbeat` and
 * `POST /api/tasks/claim-next`: the routes the CLI (`taskflow start 1`, `taskflow next`), the MCP
 * server (`claim_task`, `claim_next_task`) and the web buttons share.
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
      '`pending → in_progress`, assigned to the caller, with a lease if `lease_seconds` is given. Also claims an in-progress task whose lease has expired (the audit log records `lease_expired`). Atomic: of many concurrent claims exactly one wins; the others get 409. 409 too while a dependency is unfinished.',
  })
  @ApiBody({ type: LeaseBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  start(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: LeaseQuery,
    @Body() body: LeaseBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.start(id, user, bodyOrQuery(body, query).lease_seconds);
  }

  @Post('claim-next')
  @HttpCode(200)
  @Audited('started')
  @ApiOperation({
    summary: 'Claim the best available task',
    description:
      'Atomically claims the best task the caller may take: pending and unassigned (or in progress with an expired lease), with no unfinished dependency, whose required capabilities the caller has; highest priority first, then earliest due date, then lowest id. Concurrent callers each get a different task (no 409s). 204 when nothing is available. ' +
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
  @ApiBody({ type: LeaseBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  heartbeat(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: LeaseQuery,
    @Body() body: LeaseBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.heartbeat(id, user, bodyOrQuery(body, query).lease_seconds);
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
    const { percent, note } = bodyOrQuery<ProgressBody>(body, query);
    if (percent === undefined) {
      throw ValidationFailedError.field('percent', 'percent is required (query or JSON body)');
    }
    return this.lifecycle.progress(id, user, percent, note ?? null);
  }

  @Post(':id/review')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('review_requested')
  @ApiOperation({
    summary: 'Ask for review',
    description: `\`in_progress → review\`. ${ASSIGNEE_ONLY}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  review(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.review(id, user);
  }

  @Post(':id/complete')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('completed')
  @ApiOperation({
    summary: 'Complete a task',
    description: `\`in_progress\` or \`review → completed\`, progress 100. ${ASSIGNEE_ONLY}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  complete(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.complete(id, user);
  }

  @Post(':id/block')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('blocked')
  @ApiOperation({
    summary: 'Mark a task blocked',
    description: `\`pending\`, \`in_progress\` or \`review → blocked\`. ${QUERY_FORM}`,
  })
  @ApiBody({ type: BlockBody, required: false })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  block(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: BlockQuery,
    @Body() body: BlockBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.block(id, user, bodyOrQuery<BlockBody>(body, query).reason ?? null);
  }

  @Post(':id/unblock')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('unblocked')
  @ApiOperation({
    summary: 'Unblock a task',
    description: '`blocked → in_progress` when assigned, else `pending`.',
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  unblock(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.unblock(id, user);
  }

  @Post(':id/release')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('released')
  @ApiOperation({
    summary: 'Give a task back',
    description: `\`in_progress → pending\`, assignment cleared. ${ASSIGNEE_ONLY}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task after the move' })
  @ApiErrors(403)
  release(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.release(id, user);
  }
}

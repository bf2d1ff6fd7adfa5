import { Body, Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
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
import { BlockBody, BlockQuery, ProgressBody, ProgressQuery } from './dto/lifecycle.dto';
import { TaskLifecycleService } from './task-lifecycle.service';
import { Task } from './task.entity';

const ASSIGNEE_ONLY = 'On a task assigned to someone else: 403 unless the caller is an admin.';

/**
 * `POST /api/tasks/{id}/start|progress|review|complete|block|unblock|release`: the routes the CLI
 * (`taskflow start 1`), the MCP server (`claim_task`) and the web buttons share.
 */
@ApiTags('task lifecycle')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@ApiBodyErrors()
@ApiErrors(404, 409, 422)
@ApiTaskIdParam()
@Controller('api/tasks/:id')
export class TaskLifecycleController {
  constructor(private readonly lifecycle: TaskLifecycleService) {}

  @Post('start')
  @HttpCode(200)
  @Audited('started')
  @ApiOperation({
    summary: 'Claim a task and start it',
    description:
      '`pending → in_progress`, assigned to the caller. Atomic: of many concurrent claims exactly one wins; the others get 409.',
  })
  @ApiOkResponse({ type: Task })
  start(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.start(id, user);
  }

  @Post('progress')
  @HttpCode(200)
  @Audited('progressed')
  @ApiOperation({
    summary: 'Report progress',
    description: `Only \`in_progress\`. \`percent\` (0–100) is required, as a query parameter or in a JSON body. ${ASSIGNEE_ONLY}`,
  })
  @ApiBody({ type: ProgressBody, required: false })
  @ApiOkResponse({ type: Task })
  @ApiErrors(403)
  progress(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: ProgressQuery,
    @Body() body: ProgressBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    const percent = body?.percent ?? query.percent;
    if (percent === undefined) {
      throw ValidationFailedError.field('percent', 'percent is required (query or JSON body)');
    }
    return this.lifecycle.progress(id, user, percent, body?.note ?? query.note ?? null);
  }

  @Post('review')
  @HttpCode(200)
  @Audited('review_requested')
  @ApiOperation({
    summary: 'Ask for review',
    description: `\`in_progress → review\`. ${ASSIGNEE_ONLY}`,
  })
  @ApiOkResponse({ type: Task })
  @ApiErrors(403)
  review(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.review(id, user);
  }

  @Post('complete')
  @HttpCode(200)
  @Audited('completed')
  @ApiOperation({
    summary: 'Complete a task',
    description: `\`in_progress\` or \`review → completed\`, progress 100. ${ASSIGNEE_ONLY}`,
  })
  @ApiOkResponse({ type: Task })
  @ApiErrors(403)
  complete(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.complete(id, user);
  }

  @Post('block')
  @HttpCode(200)
  @Audited('blocked')
  @ApiOperation({
    summary: 'Mark a task blocked',
    description:
      '`pending`, `in_progress` or `review → blocked`; `reason` in the query or a JSON body.',
  })
  @ApiBody({ type: BlockBody, required: false })
  @ApiOkResponse({ type: Task })
  block(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: BlockQuery,
    @Body() body: BlockBody,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.lifecycle.block(id, user, body?.reason ?? query.reason ?? null);
  }

  @Post('unblock')
  @HttpCode(200)
  @Audited('unblocked')
  @ApiOperation({
    summary: 'Unblock a task',
    description: '`blocked → in_progress` when assigned, else `pending`.',
  })
  @ApiOkResponse({ type: Task })
  unblock(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.unblock(id, user);
  }

  @Post('release')
  @HttpCode(200)
  @Audited('released')
  @ApiOperation({
    summary: 'Give a task back',
    description: `\`in_progress → pending\`, assignment cleared. ${ASSIGNEE_ONLY}`,
  })
  @ApiOkResponse({ type: Task })
  @ApiErrors(403)
  release(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.lifecycle.release(id, user);
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Audited } from '../audit/audited.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiTaskIdParam } from '../common/openapi/api-params.decorator';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { ParseIdPipe } from '../common/validation/id.pipe';
import { MAX_ARTIFACTS } from '../common/limits';
import {
  ArtifactInput,
  AskDto,
  CreateCommentDto,
  ListCommentsQuery,
  RemoveArtifactQuery,
} from './dto/collaboration.dto';
import { TaskCollaborationService } from './task-collaboration.service';
import { TaskConditionalRequests } from './task-etag';
import { TaskComment } from './task-comment.entity';
import { Task } from './task.entity';

const WRITERS =
  "The task's project's owners and members (anyone on the shared board) and admins; a reader who may not write gets 403 `not_project_member`, and a task the caller cannot read is a 404.";

/**
 * `/api/tasks/{id}/comments`, `…/ask` and `…/artifacts`: what people and agents say to each other
 * on a task, and what its work produced. The inbox, which gathers what waits on the caller, is
 * `inbox.controller.ts`.
 */
@ApiTags('collaboration')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@TaskConditionalRequests()
@Controller('api/tasks')
export class TaskCollaborationController {
  constructor(private readonly collaboration: TaskCollaborationService) {}

  @Post(':id/comments')
  @ApiTaskIdParam()
  @Audited('commented')
  @ApiOperation({
    summary: 'Comment on a task',
    description: `Append-only: a correction is a new comment. Audited as \`commented\` with the SHA-256 of the text, so the task's hash chain vouches for it. A comment of kind \`answer\` from anyone but the assignee, on a task waiting for input, clears \`awaiting_input\` (audited \`answered\`). ${WRITERS}`,
  })
  @ApiCreatedResponse({ type: TaskComment, description: 'The comment' })
  @ApiBodyErrors()
  @ApiErrors(403, 404, 413, 415, 422)
  comment(
    @Param('id', ParseIdPipe) id: number,
    @Body() dto: CreateCommentDto,
    @CurrentUser() user: AuthUser,
  ): Promise<TaskComment> {
    return this.collaboration.comment(id, user, dto);
  }

  @Get(':id/comments')
  @ApiTaskIdParam()
  @ApiOperation({
    summary: "List a task's comments",
    description:
      'Oldest first. Page on by following `Link: <…>; rel="next"` (a `cursor`); `X-Total-Count` is the number of comments on the task.',
  })
  @ApiPageResponse(TaskComment, 'One page of comments, oldest first', { cursor: true })
  @ApiErrors(404, 422)
  async comments(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: ListCommentsQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TaskComment[]> {
    return sendPage(reply, await this.collaboration.comments(id, query, user));
  }

  @Post(':id/ask')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('asked')
  @ApiOperation({
    summary: 'Ask a person a question and wait for the answer',
    description:
      'By the assignee of a task in progress (else 403 `not_assignee`; 409 `invalid_transition` when not in progress). Records a `question` comment and sets `awaiting_input`: the task appears in the inbox of the people who may answer, and its lease does not run out while it waits. A comment of kind `answer` from someone else clears it (follow `answered` on the event stream). Audited as `asked` (`{comment_id}`).',
  })
  @ApiOkResponse({ type: Task, description: 'The task, waiting for input' })
  @ApiBodyErrors()
  @ApiErrors(403, 404, 409, 413, 415, 422)
  ask(
    @Param('id', ParseIdPipe) id: number,
    @Body() dto: AskDto,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.collaboration.ask(id, user, dto.question);
  }

  @Post(':id/artifacts')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('artifact_added')
  @ApiOperation({
    summary: 'Add an artifact to a task (or replace the one with the same URL)',
    description: `What the work produced: a pull request, a commit, a link, a file, a log. At most ${MAX_ARTIFACTS} per task (409 \`too_many_artifacts\`). For the assignee, and ${WRITERS}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task with its artifacts' })
  @ApiBodyErrors()
  @ApiErrors(403, 404, 409, 413, 415, 422)
  addArtifact(
    @Param('id', ParseIdPipe) id: number,
    @Body() dto: ArtifactInput,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.collaboration.addArtifact(id, user, dto);
  }

  @Delete(':id/artifacts')
  @ApiTaskIdParam()
  @HttpCode(200)
  @Audited('artifact_removed')
  @ApiOperation({
    summary: 'Remove an artifact from a task',
    description: `By its \`url\` (404 \`artifact_not_found\` when the task has none with it). For the assignee, and ${WRITERS}`,
  })
  @ApiOkResponse({ type: Task, description: 'The task with its artifacts' })
  @ApiBodyErrors()
  @ApiErrors(403, 404, 422)
  removeArtifact(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: RemoveArtifactQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    return this.collaboration.removeArtifact(id, user, query.url);
  }
}

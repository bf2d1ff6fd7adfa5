import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { ApiAuthenticatedErrors, ApiErrors } from '../common/openapi/api-errors.decorator';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { InboxItem, InboxQuery } from './dto/collaboration.dto';
import { TaskCollaborationService } from './task-collaboration.service';

/** `GET /api/inbox`: what waits on the caller, most urgent first. */
@ApiTags('collaboration')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/inbox')
export class InboxController {
  constructor(private readonly collaboration: TaskCollaborationService) {}

  @Get()
  @ApiOperation({
    summary: 'What waits on me',
    description:
      "The tasks the caller can read that wait on it, each once with the first reason that applies, in this order: `awaiting_input` (someone else's question, in a project the caller writes in), `review` (work in review the caller may sign off: not its own, and under a project's `human` review policy not an agent's work for an agent), `assigned` (the caller's unfinished tasks). Within a reason: highest priority, then earliest due date (none last), then lowest id.",
  })
  @ApiPageResponse(InboxItem, 'One page of the inbox, most urgent first')
  @ApiErrors(422)
  async inbox(
    @Query() query: InboxQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<InboxItem[]> {
    return sendPage(reply, await this.collaboration.inbox(query, user));
  }
}

import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { ApiAuthenticatedErrors, ApiErrors } from '../common/openapi/api-errors.decorator';
import { PaginationQuery } from '../common/pagination/pagination.query';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { ApiTaskIdParam } from '../common/openapi/api-params.decorator';
import { ParseIdPipe } from '../common/validation/id.pipe';
import { AuditEntry } from './audit-entry.entity';
import { AuditService } from './audit.service';
import { ListAuditQuery } from './dto/list-audit.query';

/** `/api/audit` and `/api/tasks/{id}/audit`: the append-only history, oldest first. */
@ApiTags('audit')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get('audit')
  @ApiOperation({ summary: 'Search the audit log', description: 'Filters combine with AND.' })
  @ApiPageResponse(AuditEntry, 'One page of the matching entries, oldest first')
  @ApiErrors(422)
  async list(
    @Query() query: ListAuditQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuditEntry[]> {
    return sendPage(reply, await this.audit.list(query, user));
  }

  @Get('tasks/:id/audit')
  @ApiTaskIdParam()
  @ApiOperation({
    summary: "A task's audit trail, oldest first",
    description:
      'Still available after the task is deleted; 404 only for a task that never existed.',
  })
  @ApiPageResponse(AuditEntry, "One page of the task's entries, oldest first")
  @ApiErrors(404, 422)
  async forTask(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: PaginationQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuditEntry[]> {
    return sendPage(reply, await this.audit.forTask(id, query, user));
  }
}

import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RequireAdmin } from '../auth/require-admin';
import { ApiAuthenticatedErrors, ApiErrors } from '../common/openapi/api-errors.decorator';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { AuditVerifyService } from './audit-verify.service';
import {
  AuditHead,
  AuditHeadsQuery,
  AuditVerifyResponse,
  VerifyAuditQuery,
} from './dto/audit-verify.dto';

/** `/api/audit/verify` and `/api/audit/heads`: the tamper evidence of the audit log (admins). */
@ApiTags('audit')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@RequireAdmin()
@Controller('api/audit')
export class AuditVerifyController {
  constructor(private readonly chains: AuditVerifyService) {}

  @Get('verify')
  @ApiOperation({
    summary: "Recompute the audit log's hash chains (admins)",
    description:
      'One chain per task, and one per worker for entries about no task. Detects an edited, inserted or deleted entry anywhere but at the very end of a chain; deleting the newest entries of a chain is only visible against heads exported earlier (`GET /api/audit/heads`).',
  })
  @ApiOkResponse({
    type: AuditVerifyResponse,
    description: 'How many entries were checked, and the first broken one',
  })
  @ApiErrors(403, 422)
  verify(@Query() query: VerifyAuditQuery): Promise<AuditVerifyResponse> {
    return this.chains.verify(query);
  }

  @Get('heads')
  @ApiOperation({
    summary: 'The newest entry of each chain, for export to an outside store (admins)',
    description:
      'Keep these somewhere the database cannot reach: an entry that later disagrees with an exported head, or a chain shorter than its exported `chain_seq`, was tampered with.',
  })
  @ApiPageResponse(AuditHead, 'One page of chain heads')
  @ApiErrors(403, 422)
  async heads(
    @Query() query: AuditHeadsQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AuditHead[]> {
    return sendPage(reply, await this.chains.heads(query));
  }
}

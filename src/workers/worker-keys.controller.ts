import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiWorkerIdParam } from '../common/openapi/api-params.decorator';
import { ParseUuidPipe } from '../common/validation/uuid.pipe';
import { ParseWorkerIdPipe } from '../common/validation/worker-id.pipe';
import { ApiKeyView, CreateApiKeyDto, CreatedApiKey } from './dto/api-key.dto';
import { WorkerKeysService } from './worker-keys.service';

const WHO = 'An admin, for any worker; a worker, for itself.';

/** `/api/workers/{id}/keys`: a worker's API keys (service accounts, tokens for scripts). */
@ApiTags('workers')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/workers/:id/keys')
export class WorkerKeysController {
  constructor(private readonly keys: WorkerKeysService) {}

  @Post()
  @Audited('key_created')
  @ApiOperation({
    summary: 'Create an API key for a worker',
    description: `${WHO} The key acts as the worker (with its registered type, never as an admin), within its scopes and projects, until it expires or is revoked. The answer is the only one that shows \`key\`; an API key cannot create keys (403).`,
  })
  @ApiCreatedResponse({ type: CreatedApiKey, description: 'The key, shown this once' })
  @ApiWorkerIdParam()
  @ApiErrors(400, 403, 404, 413, 415, 422)
  create(
    @Param('id', ParseWorkerIdPipe) id: string,
    @Body() dto: CreateApiKeyDto,
    @CurrentUser() user: AuthUser,
  ): Promise<CreatedApiKey> {
    return this.keys.create(id, dto, user);
  }

  @Get()
  @ApiOperation({
    summary: "List a worker's API keys",
    description: `${WHO} Keys not revoked (expired ones included), oldest first, without the keys themselves.`,
  })
  @ApiOkResponse({ type: [ApiKeyView], description: "The worker's keys" })
  @ApiWorkerIdParam()
  @ApiErrors(403, 404, 422)
  list(
    @Param('id', ParseWorkerIdPipe) id: string,
    @CurrentUser() user: AuthUser,
  ): Promise<ApiKeyView[]> {
    return this.keys.list(id, user);
  }

  @Delete(':key_id')
  @HttpCode(204)
  @Audited('key_revoked')
  @ApiOperation({
    summary: 'Revoke an API key',
    description: `${WHO} Every replica refuses the key (401) within seconds.`,
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiWorkerIdParam()
  @ApiParam({ name: 'key_id', description: 'Key id', schema: { type: 'string', format: 'uuid' } })
  @ApiBodyErrors()
  @ApiErrors(403, 404, 422)
  revoke(
    @Param('id', ParseWorkerIdPipe) id: string,
    @Param('key_id', new ParseUuidPipe('key_id')) keyId: string,
    @CurrentUser() user: AuthUser,
  ): Promise<void> {
    return this.keys.revoke(id, keyId, user);
  }
}

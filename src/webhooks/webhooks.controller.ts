import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Audited } from '../audit/audited.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { RequireAdmin } from '../auth/require-admin';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { PaginationQuery } from '../common/pagination/pagination.query';
import { CreateWebhookDto, CreatedWebhook, UpdateWebhookDto, WebhookView } from './dto/webhook.dto';
import { WebhookDelivery } from './webhook-delivery.entity';
import { ApiWebhookIdParam, parseWebhookId } from './webhook-id';
import { WebhooksService } from './webhooks.service';

const DELIVERY =
  "Each audit entry the webhook wants is POSTed as JSON (the entry as `GET /api/audit` shows it), in the log's order (by writing transaction, then id; see docs/events.md), signed (`X-TaskFlow-Signature`), with `X-TaskFlow-Event` and `X-TaskFlow-Delivery`: see docs/webhooks.md.";

/** `/api/webhooks`: receivers of the audit log (admins). */
@ApiTags('webhooks')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@RequireAdmin()
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @Audited('webhook_created')
  @ApiOperation({
    summary: 'Create a webhook (admins)',
    description: `It receives the entries recorded after its creation. The answer is the only one that shows the secret: a retry with the same \`Idempotency-Key\` is answered the first answer without \`secret\` (\`Idempotent-Replayed: true\`), as it was then even if the webhook changed or was deleted since, and the secret is never stored with the key. A client that lost it sets a new one with \`PATCH\`. ${DELIVERY}`,
  })
  @ApiCreatedResponse({
    type: CreatedWebhook,
    description: 'The webhook, with its secret (without it on an Idempotency-Key replay)',
  })
  @ApiErrors(400, 403, 413, 415, 422)
  create(@Body() dto: CreateWebhookDto, @CurrentUser() user: AuthUser): Promise<CreatedWebhook> {
    return this.webhooks.create(dto, user);
  }

  @Get()
  @ApiOperation({ summary: 'List webhooks (admins)', description: 'Oldest first.' })
  @ApiPageResponse(WebhookView, 'One page of webhooks')
  @ApiErrors(403, 422)
  async list(
    @Query() query: PaginationQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WebhookView[]> {
    return sendPage(reply, await this.webhooks.list(query));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get a webhook (admins)',
    description: 'Its settings, status and cursor; never its secret.',
  })
  @ApiOkResponse({ type: WebhookView, description: 'The webhook' })
  @ApiWebhookIdParam()
  @ApiErrors(403, 404, 422)
  findOne(@Param('id', parseWebhookId) id: string): Promise<WebhookView> {
    return this.webhooks.findOne(id);
  }

  @Patch(':id')
  @Audited('webhook_updated')
  @ApiOperation({
    summary: 'Update a webhook (admins)',
    description:
      'Only the fields sent change. A new `secret` signs the next delivery; `status: paused` stops deliveries and `active` resumes them from the cursor.',
  })
  @ApiOkResponse({ type: WebhookView, description: 'The webhook as it is now' })
  @ApiWebhookIdParam()
  @ApiErrors(400, 403, 404, 413, 415, 422)
  update(
    @Param('id', parseWebhookId) id: string,
    @Body() dto: UpdateWebhookDto,
  ): Promise<WebhookView> {
    return this.webhooks.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @Audited('webhook_deleted')
  @ApiOperation({
    summary: 'Delete a webhook (admins)',
    description: 'Its delivery attempts go with it; a call in flight is not recorded.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiWebhookIdParam()
  @ApiBodyErrors()
  @ApiErrors(403, 404, 422)
  remove(@Param('id', parseWebhookId) id: string): Promise<void> {
    return this.webhooks.remove(id);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @Audited('webhook_updated')
  @ApiOperation({
    summary: 'Resume a failing or paused webhook (admins)',
    description:
      'It becomes `active` with no failures counted and delivers again from its cursor: nothing recorded meanwhile is skipped.',
  })
  @ApiOkResponse({ type: WebhookView, description: 'The webhook as it is now' })
  @ApiWebhookIdParam()
  @ApiBodyErrors()
  @ApiErrors(403, 404, 422)
  resume(@Param('id', parseWebhookId) id: string): Promise<WebhookView> {
    return this.webhooks.resume(id);
  }

  @Get(':id/deliveries')
  @ApiOperation({
    summary: "A webhook's delivery attempts (admins)",
    description:
      'Every attempt, oldest first, with the status the receiver answered (or why none came) and the latency.',
  })
  @ApiPageResponse(WebhookDelivery, 'One page of attempts')
  @ApiWebhookIdParam()
  @ApiErrors(403, 404, 422)
  async deliveries(
    @Param('id', parseWebhookId) id: string,
    @Query() query: PaginationQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<WebhookDelivery[]> {
    return sendPage(reply, await this.webhooks.deliveriesOf(id, query));
  }
}

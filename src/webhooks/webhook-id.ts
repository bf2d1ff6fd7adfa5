import { ApiParam } from '@nestjs/swagger';
import { ParseUuidPipe } from '../common/validation/uuid.pipe';

/** `{id}` of a webhook: a UUID, else 422. */
export const parseWebhookId = new ParseUuidPipe('id');

export const ApiWebhookIdParam = () =>
  ApiParam({ name: 'id', description: 'Webhook id', schema: { type: 'string', format: 'uuid' } });

import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { ValidationFailedError } from '../common/errors/domain-errors';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `{id}` of a webhook: a UUID, else 422 (never a 500 from the uuid column). */
@Injectable()
export class ParseWebhookIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) throw ValidationFailedError.field('id', 'id must be a UUID');
    return value.toLowerCase();
  }
}

export const ApiWebhookIdParam = () =>
  ApiParam({ name: 'id', description: 'Webhook id', schema: { type: 'string', format: 'uuid' } });

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  Matches,
  ValidateIf,
} from 'class-validator';
import { AUDIT_ACTIONS, AuditAction } from '../../audit/audit-actions';
import { IsOptionalNotNull, IsText } from '../../common/validation/decorators';
import { PatchType } from '../../common/openapi/patch-type';
import { SecretField } from '../../idempotency/secret-field';
import { WEBHOOK_STATUSES, WebhookStatus } from '../webhook.entity';

export const WEBHOOK_URL_MAX_LENGTH = 2048;
/** Printable ASCII without spaces, as a receiver's configuration file can hold it. */
const SECRET_PATTERN = /^[\x21-\x7e]{16,200}$/;
/** As `PROJECT_SLUG_PATTERN` (src/projects), which this layer may not import. */
const PROJECT_PATTERN = /^[a-z0-9-]{1,100}$/;
/** What an admin may set; `failing` is the worker's to set, and `resume` clears it. */
const SETTABLE_STATUSES = ['active', 'paused'] as const;

export class CreateWebhookDto {
  @ApiProperty({
    maxLength: WEBHOOK_URL_MAX_LENGTH,
    example: 'https://hooks.example.com/taskflow',
    description:
      'An `https` or `http` URL, without user or password. Its host, and every address it resolves to, must be global unicast: no loopback, private, link-local, NAT64, 6to4 or other special-purpose address, unless the server allows them (`WEBHOOK_ALLOW_PRIVATE`).',
  })
  @IsText({ min: 1, max: WEBHOOK_URL_MAX_LENGTH })
  url: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', enum: [...AUDIT_ACTIONS] },
    maxItems: AUDIT_ACTIONS.length,
    example: ['created', 'completed'],
    description: 'The audit actions delivered; empty or absent: every action.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(AUDIT_ACTIONS.length)
  @ArrayUnique({ message: 'events must not repeat an action' })
  @IsIn(AUDIT_ACTIONS, {
    each: true,
    message: `each event must be one of ${AUDIT_ACTIONS.join(', ')}`,
  })
  events?: AuditAction[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    pattern: PROJECT_PATTERN.source,
    maxLength: 100,
    example: 'website',
    description: "Only this project's entries; null or absent: every entry.",
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @Matches(PROJECT_PATTERN, {
    message: 'project must be 1 to 100 lower-case letters, digits or hyphens',
  })
  project?: string | null;

  @ApiPropertyOptional({
    minLength: 16,
    maxLength: 200,
    pattern: SECRET_PATTERN.source,
    writeOnly: true,
    description:
      'The HMAC key of `X-TaskFlow-Signature`: 16 to 200 printable ASCII characters. Absent on create: one is generated and answered once. Never answered again.',
  })
  @IsOptionalNotNull()
  @Matches(SECRET_PATTERN, {
    message: 'secret must be 16 to 200 printable ASCII characters without spaces',
  })
  secret?: string;

  @ApiPropertyOptional({
    enum: SETTABLE_STATUSES,
    default: 'active',
    description: '`paused` stops deliveries (nothing is skipped: they continue from the cursor).',
  })
  @IsOptionalNotNull()
  @IsIn(SETTABLE_STATUSES, { message: `status must be one of ${SETTABLE_STATUSES.join(', ')}` })
  status?: 'active' | 'paused';
}

/** Only the fields sent change. */
export class UpdateWebhookDto extends PatchType(CreateWebhookDto) {}

/** A webhook as the API shows it: never its secret, nor which replica is delivering it. */
export class WebhookView {
  @ApiProperty({ format: 'uuid', example: '0b1c9a52-1f0e-4a47-9d51-6b0f2f1c5e2a' })
  id: string;

  @ApiProperty({ maxLength: WEBHOOK_URL_MAX_LENGTH, example: 'https://hooks.example.com/taskflow' })
  url: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...AUDIT_ACTIONS] },
    example: ['created', 'completed'],
    description: 'The audit actions delivered; empty: every action.',
  })
  events: AuditAction[];

  @ApiProperty({ type: String, nullable: true, example: null })
  project: string | null;

  @ApiProperty({
    enum: WEBHOOK_STATUSES,
    enumName: 'WebhookStatus',
    example: 'active',
    description:
      '`active` delivers; `paused` was stopped by an admin; `failing` stopped itself after too many consecutive failures (`POST /api/webhooks/{id}/resume`).',
  })
  status: WebhookStatus;

  @ApiProperty({ type: 'integer', example: 0, description: 'Consecutive failed attempts.' })
  failure_count: number;

  @ApiProperty({
    type: 'integer',
    example: 1017,
    description:
      'The id of the last audit entry dealt with: the next delivery is the first wanted entry after it.',
  })
  cursor: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  next_attempt_at: Date;

  @ApiProperty({ example: 'root' })
  created_by: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  created_at: Date;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  updated_at: Date;
}

/** The answer to `POST /api/webhooks`: the only one that shows the secret. */
export class CreatedWebhook extends WebhookView {
  @ApiPropertyOptional({
    example: 'whsec_5f0c…',
    description:
      'The signing secret: store it now, it is never shown again. Absent from an `Idempotency-Key` replay (`Idempotent-Replayed: true`), which answers the first answer without it; a client that lost it sets a new one with `PATCH`.',
  })
  @SecretField()
  secret?: string;
}

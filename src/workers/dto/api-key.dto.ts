import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsOptional,
  Matches,
  ValidateIf,
} from 'class-validator';
import { API_KEY_SCOPES, ApiKeyScope } from '../../auth/auth-user';
import {
  IsOptionalNotNull,
  IsText,
  IsValidDate,
  ToUtcDate,
} from '../../common/validation/decorators';
import { SecretField } from '../../idempotency/secret-field';

/** As `PROJECT_SLUG_PATTERN` (src/projects), which this layer may not import. */
const PROJECT_PATTERN = /^[a-z0-9-]{1,100}$/;
/** A key lives this long unless its creator says otherwise, and never longer than the maximum. */
export const DEFAULT_KEY_LIFETIME_DAYS = 90;
export const MAX_KEY_LIFETIME_DAYS = 366;

export class CreateApiKeyDto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'triage agent on ci-runner-3' })
  @IsText({ min: 1, max: 100, nonBlank: true })
  name: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', enum: [...API_KEY_SCOPES] },
    minItems: 1,
    maxItems: API_KEY_SCOPES.length,
    example: ['read'],
    description: '`read`: GET and HEAD only; `write`: every method. Absent: both.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMinSize(1, { message: 'scopes must name at least one scope' })
  @ArrayUnique({ message: 'scopes must not repeat a scope' })
  @IsIn(API_KEY_SCOPES, {
    each: true,
    message: `each scope must be one of ${API_KEY_SCOPES.join(', ')}`,
  })
  scopes?: ApiKeyScope[];

  @ApiPropertyOptional({
    type: [String],
    nullable: true,
    minItems: 1,
    maxItems: 100,
    example: ['website'],
    description:
      'Project slugs: the key acts as if its worker were a member of these only (where it is one), and sees nothing else, the shared board included. Null or absent: every project the worker may use.',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsArray()
  @ArrayMinSize(1, { message: 'projects must name at least one project, or be null' })
  @ArrayMaxSize(100)
  @ArrayUnique({ message: 'projects must not repeat a project' })
  @Matches(PROJECT_PATTERN, {
    each: true,
    message: 'each project must be 1 to 100 lower-case letters, digits or hyphens',
  })
  projects?: string[] | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2027-03-01T00:00:00Z',
    description: `When the key stops working: in the future, at most ${MAX_KEY_LIFETIME_DAYS} days ahead. Absent: ${DEFAULT_KEY_LIFETIME_DAYS} days from now.`,
  })
  @IsOptionalNotNull()
  @ToUtcDate()
  @IsValidDate()
  expires_at?: Date;
}

/** A key as lists show it: never the key itself. */
export class ApiKeyView {
  @ApiProperty({ format: 'uuid', example: '5b7e3f0a-8f51-4c1e-9a55-0c1f8a2d7e11' })
  id: string;

  @ApiProperty({ example: 'agent-claude-1' })
  worker_id: string;

  @ApiProperty({ example: 'triage agent on ci-runner-3' })
  name: string;

  @ApiProperty({
    example: 'Xq3v9LmA',
    description: 'The first characters after `tf_`: how the key is recognised in lists and logs.',
  })
  prefix: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', enum: [...API_KEY_SCOPES] },
    example: ['read', 'write'],
  })
  scopes: ApiKeyScope[];

  @ApiProperty({
    type: [String],
    nullable: true,
    example: null,
    description: 'The projects the key is limited to; null: every project the worker may use.',
  })
  projects: string[] | null;

  @ApiProperty({ format: 'date-time', example: '2027-03-01T00:00:00.000Z' })
  expires_at: Date;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  created_at: Date;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'When the key was last used, to the minute: written at most once a minute.',
  })
  last_used_at: Date | null;
}

/** The answer to creating a key: the only one that carries the key. */
export class CreatedApiKey extends ApiKeyView {
  @ApiPropertyOptional({
    example: 'tf_Xq3v9LmA0c2…',
    description:
      'The key: `Authorization: Bearer <key>`. Store it now, it is never shown again. Absent from an `Idempotency-Key` replay (`Idempotent-Replayed: true`).',
  })
  @SecretField()
  key?: string;
}

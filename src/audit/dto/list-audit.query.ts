import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, Max, Min } from 'class-validator';
import { MAX_INT32 } from '../../common/limits';
import { PaginationQuery } from '../../common/pagination/pagination.query';
import {
  IsOptionalNotNull,
  IsText,
  IsValidDate,
  ToInteger,
  ToUtcDate,
} from '../../common/validation/decorators';
import { ACTOR_TYPES, ActorType } from '../../common/worker-types';
import { AUDIT_ACTIONS, AuditAction } from '../audit-actions';

export class ListAuditQuery extends PaginationQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_INT32 })
  @IsOptionalNotNull()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_INT32)
  task_id?: number;

  @ApiPropertyOptional({ description: 'Who acted (JWT `sub`).' })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 255 })
  actor_id?: string;

  @ApiPropertyOptional({ enum: ACTOR_TYPES, enumName: 'ActorType' })
  @IsOptionalNotNull()
  @IsIn(ACTOR_TYPES, { message: `actor_type must be one of ${ACTOR_TYPES.join(', ')}` })
  actor_type?: ActorType;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, enumName: 'AuditAction' })
  @IsOptionalNotNull()
  @IsIn(AUDIT_ACTIONS, { message: `action must be one of ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction;

  @ApiPropertyOptional({ description: 'Project slug.' })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 100 })
  project?: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Entries at or after this instant.',
  })
  @IsOptionalNotNull()
  @ToUtcDate()
  @IsValidDate()
  since?: Date;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    description: 'Entries before this instant.',
  })
  @IsOptionalNotNull()
  @ToUtcDate()
  @IsValidDate()
  until?: Date;
}

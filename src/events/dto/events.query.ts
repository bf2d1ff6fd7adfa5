import { ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import { ListAuditQuery } from '../../audit/dto/list-audit.query';
import { IsOptionalNotNull, ToInteger } from '../../common/validation/decorators';

/** The largest event id a client may name: ids are bigints sent as JSON numbers. */
export const MAX_EVENT_ID = Number.MAX_SAFE_INTEGER;

/** `GET /api/events`: the audit list's filters, validated by the same rules, and `after`. */
export class EventsQuery extends PickType(ListAuditQuery, [
  'project',
  'task_id',
  'actor_type',
  'action',
] as const) {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_EVENT_ID,
    description:
      'Start after this event (audit entry) id: every matching entry with a greater id is sent first, then new ones. `Last-Event-ID` wins when both are given. Without either, only new events.',
  })
  @IsOptionalNotNull()
  @ToInteger()
  @IsInt()
  @Min(0)
  @Max(MAX_EVENT_ID)
  after?: number;
}

import { ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { PatchType } from '../../common/openapi/patch-type';
import { IsOptionalNotNull } from '../../common/validation/decorators';
import { TASK_STATUSES, TaskStatus } from '../task.enums';
import { CreateTaskDto } from './create-task.dto';

/**
 * Only the fields sent change; see `PatchType`. `status` has its own rule: any status may be
 * asked for, and the move table decides (create takes only `pending` or `blocked`).
 */
export class UpdateTaskDto extends PatchType(OmitType(CreateTaskDto, ['status'] as const)) {
  @ApiPropertyOptional({
    enum: TASK_STATUSES,
    enumName: 'TaskStatus',
    description: 'Makes the move that reaches this status (409 when none does).',
  })
  @IsOptionalNotNull()
  @IsIn(TASK_STATUSES, { message: `status must be one of ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;
}

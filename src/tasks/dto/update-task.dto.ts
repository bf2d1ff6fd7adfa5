import { ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsOptionalNotNull } from '../../common/validation/decorators';
import { TASK_STATUSES, TaskStatus } from '../task.enums';
import { CreateTaskDto } from './create-task.dto';

/**
 * Every field optional; a field that is sent is validated as on create, so `null` is accepted
 * only where the field is nullable (`skipNullProperties: false`). `status` is the one field with
 * another rule: any status may be asked for, and the move table decides (create takes only
 * `pending` or `blocked`).
 */
export class UpdateTaskDto extends PartialType(OmitType(CreateTaskDto, ['status'] as const), {
  skipNullProperties: false,
}) {
  @ApiPropertyOptional({
    enum: TASK_STATUSES,
    enumName: 'TaskStatus',
    description: 'Makes the move that reaches this status (409 when none does).',
  })
  @IsOptionalNotNull()
  @IsIn(TASK_STATUSES, { message: `status must be one of ${TASK_STATUSES.join(', ')}` })
  status?: TaskStatus;
}

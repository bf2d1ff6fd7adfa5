import { ApiProperty } from '@nestjs/swagger';
import { Task } from '../task.entity';

/** `GET /api/tasks/{id}`: the task, and the tasks it waits for. */
export class TaskDetailResponse extends Task {
  @ApiProperty({
    type: [Number],
    example: [12, 15],
    description: 'Ids of the tasks this one is blocked by (its dependencies), completed or not.',
  })
  blocked_by: number[];
}

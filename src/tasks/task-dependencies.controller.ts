import { Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { Audited } from '../audit/audited.decorator';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiTaskIdParam } from '../common/openapi/api-params.decorator';
import { ParseIdPipe } from '../common/validation/id.pipe';
import { TaskDependenciesService } from './task-dependencies.service';
import { TaskConditionalRequests } from './task-etag';
import { Task } from './task.entity';
import { TasksService } from './tasks.service';

/** `/api/tasks/{id}/dependencies/{other_id}`: "task id is blocked by task other_id". */
@ApiTags('task dependencies')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@ApiBodyErrors()
@ApiTaskIdParam()
@ApiTaskIdParam('other_id')
@TaskConditionalRequests()
@Controller('api/tasks/:id/dependencies')
export class TaskDependenciesController {
  constructor(
    private readonly dependencies: TaskDependenciesService,
    private readonly tasks: TasksService,
  ) {}

  @Post(':other_id')
  @HttpCode(200)
  @Audited('dependency_added')
  @ApiOperation({
    summary: 'Make a task wait for another',
    description:
      'Task `id` cannot be started or claimed until task `other_id` is completed. Adding an existing dependency changes nothing; one that would close a cycle is a 409. Returns the task with its `blocked_by`.',
  })
  @ApiOkResponse({ type: Task, description: 'The task, with its `blocked_by`' })
  @ApiErrors(403, 404, 409, 422)
  async add(
    @Param('id', ParseIdPipe) id: number,
    @Param('other_id', new ParseIdPipe('other_id')) otherId: number,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    await this.dependencies.add(id, otherId, user);
    return this.tasks.findOne(id, user);
  }

  @Delete(':other_id')
  @HttpCode(204)
  @Audited('dependency_removed')
  @ApiOperation({
    summary: 'Stop a task waiting for another',
    description: 'Task `id` no longer waits for task `other_id`; 404 when it did not.',
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(403, 404, 422)
  remove(
    @Param('id', ParseIdPipe) id: number,
    @Param('other_id', new ParseIdPipe('other_id')) otherId: number,
    @CurrentUser() user: AuthUser,
  ): Promise<void> {
    return this.dependencies.remove(id, otherId, user);
  }
}

import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Audited } from '../audit/audited.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiTaskIdParam } from '../common/openapi/api-params.decorator';
import { PaginationQuery } from '../common/pagination/pagination.query';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { ParseIdPipe } from '../common/validation/id.pipe';
import { CreateTaskDto } from './dto/create-task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { UpdateTaskDto } from './dto/update-task.dto';
import { TaskConditionalRequests } from './task-etag';
import { Task } from './task.entity';
import { TasksService } from './tasks.service';

/**
 * `/api/tasks`: the task board's CRUD. Also under /api/tasks/{id}: the lifecycle routes
 * (`task-lifecycle.controller.ts`) and the audit trail (`audit/audit.controller.ts`).
 */
@ApiTags('tasks')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@TaskConditionalRequests()
@Controller('api/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @Audited('created')
  @ApiOperation({
    summary: 'Create a task',
    description:
      'The caller becomes `created_by`. `status` is `pending` (default) or `blocked`: work starts with a move, never at creation. `assigned_to` pre-assigns the task: only that worker (or an admin) may then start it, and the worker must have registered its `required_capabilities` (403 `capability_missing`). Unknown or server-owned fields are a 422, never silently ignored.',
  })
  @ApiCreatedResponse({ type: Task, description: 'The created task' })
  @ApiErrors(400, 403, 413, 415, 422)
  create(@Body() dto: CreateTaskDto, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.tasks.create(dto, user);
  }

  @Get()
  @ApiOperation({
    summary: 'List tasks',
    description:
      'Filters combine with AND. Page on by following `Link: <…>; rel="next"` (a `cursor`): each page costs what the first does, and tasks added or removed meanwhile neither repeat nor skip the others. `offset` still works for older clients but reads every skipped row, so deep offset pages are slow. `X-Total-Count` is exact up to a bound and estimated beyond it (`X-Total-Count-Estimated: true`); `count=exact` asks for the full count.',
  })
  @ApiPageResponse(Task, 'One page of the matching tasks, in the requested order', {
    cursor: true,
  })
  @ApiErrors(422)
  async list(
    @Query() query: ListTasksQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Task[]> {
    return sendPage(reply, await this.tasks.list(query, user));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get a task, with the tasks it is blocked by',
    description:
      'Send the `ETag` of the last answer in `If-None-Match` to poll cheaply: 304 while the task is unchanged.',
  })
  @ApiTaskIdParam()
  @ApiOkResponse({ type: Task, description: 'The task' })
  @ApiErrors(404, 422)
  findOne(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<Task> {
    return this.tasks.findOne(id, user);
  }

  @Patch(':id')
  @Audited('updated')
  @ApiOperation({
    summary: 'Update some fields of a task',
    description:
      'Only the fields sent change, in one transaction. `assigned_to` is the move `assign` (an unassigned pending task: anyone; otherwise the assignee or an admin) and `status` is the move that reaches it (`in_progress` from `pending` is `start`, `completed` from `review` is `approve`…), with the same rules, status codes and audit actions as the lifecycle routes; a status no move reaches is 409 `invalid_transition`. `review → in_progress` is `reject`, which needs a reason: use `POST /api/tasks/{id}/reject`. `project_slug` moves the task to another project: its holder must be a member there (403 `not_project_member`), and no task outside a private project may refer to one inside it, as parent or dependency, either way (409 `project_referenced`; see docs/lifecycle.md).',
  })
  @ApiOkResponse({ type: Task, description: 'The task as it is now' })
  @ApiTaskIdParam()
  @ApiErrors(400, 403, 404, 409, 413, 415, 422)
  async update(
    @Param('id', ParseIdPipe) id: number,
    @Body() dto: UpdateTaskDto,
    @CurrentUser() user: AuthUser,
  ): Promise<Task> {
    const { task } = await this.tasks.update(id, dto, user);
    return task;
  }

  @Delete(':id')
  @HttpCode(204)
  @Audited('deleted')
  @ApiOperation({
    summary: 'Delete a task',
    description:
      '409 (`task_has_subtasks`, `task_has_dependents`) while tasks the caller sees hang on it. Tasks the caller cannot see never refuse it: they let go of it (a subtask loses its `parent_id`, a dependent its dependency).',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiTaskIdParam()
  @ApiBodyErrors()
  @ApiErrors(403, 404, 409, 422)
  async remove(@Param('id', ParseIdPipe) id: number, @CurrentUser() user: AuthUser): Promise<void> {
    await this.tasks.remove(id, user);
  }

  @Get(':id/subtasks')
  @ApiOperation({ summary: "List a task's direct subtasks", description: 'Ordered by id.' })
  @ApiPageResponse(Task, 'One page of the direct subtasks')
  @ApiTaskIdParam()
  @ApiErrors(404, 422)
  async subtasks(
    @Param('id', ParseIdPipe) id: number,
    @Query() query: PaginationQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Task[]> {
    return sendPage(reply, await this.tasks.subtasks(id, query, user));
  }
}

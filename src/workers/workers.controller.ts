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
import { RequireAdmin } from '../auth/require-admin';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiWorkerIdParam } from '../common/openapi/api-params.decorator';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { ParseWorkerIdPipe } from '../common/validation/worker-id.pipe';
import { CreateWorkerDto } from './dto/create-worker.dto';
import { ListWorkersQuery } from './dto/list-workers.query';
import { UpdateWorkerDto } from './dto/update-worker.dto';
import { Worker } from './worker.entity';
import { WorkersService } from './workers.service';

/** `/api/workers`: the registry that says who is a human and who is an agent. */
@ApiTags('workers')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/workers')
export class WorkersController {
  constructor(private readonly workers: WorkersService) {}

  @Post()
  @Audited('worker_registered')
  @ApiOperation({
    summary: 'Register a worker',
    description:
      'Admins register anyone, including agents, with capabilities. A plain user may register only itself, only as `human`, and without capabilities (422): capabilities decide which tasks a worker may claim, so only an admin grants them.',
  })
  @ApiCreatedResponse({ type: Worker, description: 'The registered worker' })
  @ApiErrors(400, 403, 409, 413, 415, 422)
  register(@Body() dto: CreateWorkerDto, @CurrentUser() user: AuthUser): Promise<Worker> {
    return this.workers.register(dto, user);
  }

  @Get()
  @ApiOperation({ summary: 'List workers', description: 'Ordered by id.' })
  @ApiPageResponse(Worker, 'One page of workers')
  @ApiErrors(422)
  async list(
    @Query() query: ListWorkersQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Worker[]> {
    return sendPage(reply, await this.workers.list(query));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get a worker',
    description: 'Its type (`human` or `agent`) and capabilities, as registered.',
  })
  @ApiOkResponse({ type: Worker, description: 'The worker' })
  @ApiWorkerIdParam()
  @ApiErrors(404, 422)
  findOne(@Param('id', ParseWorkerIdPipe) id: string): Promise<Worker> {
    return this.workers.findOne(id);
  }

  @Patch(':id')
  @RequireAdmin()
  @Audited('worker_updated')
  @ApiOperation({
    summary: 'Update a worker (admins only)',
    description: 'Only the fields sent change; the id never does.',
  })
  @ApiOkResponse({ type: Worker, description: 'The worker as it is now' })
  @ApiWorkerIdParam()
  @ApiErrors(400, 403, 404, 413, 415, 422)
  update(
    @Param('id', ParseWorkerIdPipe) id: string,
    @Body() dto: UpdateWorkerDto,
  ): Promise<Worker> {
    return this.workers.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @RequireAdmin()
  @Audited('worker_deleted')
  @ApiOperation({
    summary: 'Delete a worker (admins only)',
    description: 'Its past audit entries keep its id; from now on it counts as a human again.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiWorkerIdParam()
  @ApiBodyErrors()
  @ApiErrors(403, 404, 422)
  remove(@Param('id', ParseWorkerIdPipe) id: string): Promise<void> {
    return this.workers.remove(id);
  }
}

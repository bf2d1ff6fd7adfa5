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
import { ProjectMember } from '../access/project-member.entity';
import { Project } from '../access/project.entity';
import { Audited } from '../audit/audited.decorator';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import {
  ApiAuthenticatedErrors,
  ApiBodyErrors,
  ApiErrors,
} from '../common/openapi/api-errors.decorator';
import { ApiWorkerIdParam } from '../common/openapi/api-params.decorator';
import { ApiPageResponse, sendPage } from '../common/pagination/page-response';
import { PaginationQuery } from '../common/pagination/pagination.query';
import { ParseWorkerIdPipe } from '../common/validation/worker-id.pipe';
import { CreateProjectDto } from './dto/create-project.dto';
import { SetMemberDto } from './dto/set-member.dto';
import { UpdateProjectDto } from './dto/update-project.dto';
import { ApiProjectSlugParam, ParseProjectSlugPipe } from './project-slug';
import { ProjectsService } from './projects.service';

const HIDDEN =
  'A private project the caller is not a member of is answered as missing (404), never 403.';

/** `/api/projects`: projects, who may read and change their tasks, and their members. */
@ApiTags('projects')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post()
  @Audited('project_created')
  @ApiOperation({
    summary: 'Create a project',
    description:
      'Any authenticated user creates a project; the caller becomes its `owner` and its first owner member. A slug in use answers 409 `project_exists`; the slug of a deleted project is never used again (409 `project_slug_retired`).',
  })
  @ApiCreatedResponse({ type: Project, description: 'The created project' })
  @ApiErrors(400, 409, 413, 415, 422)
  create(@Body() dto: CreateProjectDto, @CurrentUser() user: AuthUser): Promise<Project> {
    return this.projects.create(dto, user);
  }

  @Get()
  @ApiOperation({
    summary: 'List projects',
    description:
      'The projects the caller may see (every internal one, and its private ones), by slug.',
  })
  @ApiPageResponse(Project, 'One page of projects')
  @ApiErrors(422)
  async list(
    @Query() query: PaginationQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Project[]> {
    return sendPage(reply, await this.projects.list(user, query));
  }

  @Get(':slug')
  @ApiOperation({ summary: 'Get a project', description: HIDDEN })
  @ApiOkResponse({ type: Project, description: 'The project' })
  @ApiProjectSlugParam()
  @ApiErrors(404, 422)
  findOne(
    @Param('slug', ParseProjectSlugPipe) slug: string,
    @CurrentUser() user: AuthUser,
  ): Promise<Project> {
    return this.projects.findOne(slug, user);
  }

  @Patch(':slug')
  @Audited('project_updated')
  @ApiOperation({
    summary: 'Update a project (owners and admins)',
    description: `Only the fields sent change; the slug never does. Members and viewers get 403. Making a project private is a 409 while tasks outside it refer to its tasks (as parent or dependency). ${HIDDEN}`,
  })
  @ApiOkResponse({ type: Project, description: 'The project as it is now' })
  @ApiProjectSlugParam()
  @ApiErrors(400, 403, 404, 413, 415, 422)
  update(
    @Param('slug', ParseProjectSlugPipe) slug: string,
    @Body() dto: UpdateProjectDto,
    @CurrentUser() user: AuthUser,
  ): Promise<Project> {
    return this.projects.update(slug, dto, user);
  }

  @Delete(':slug')
  @HttpCode(204)
  @Audited('project_deleted')
  @ApiOperation({
    summary: 'Delete a project (owners and admins)',
    description: `Refused (409 \`project_has_tasks\`) while any task is in the project. Afterwards the project is not listed, not found and takes no task, but its history stays readable by those who were its members (and admins), and its slug is retired: no project is ever created with it again. ${HIDDEN}`,
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProjectSlugParam()
  @ApiBodyErrors()
  @ApiErrors(403, 404, 409, 422)
  remove(
    @Param('slug', ParseProjectSlugPipe) slug: string,
    @CurrentUser() user: AuthUser,
  ): Promise<void> {
    return this.projects.remove(slug, user);
  }

  @Get(':slug/members')
  @ApiOperation({
    summary: "List a project's members",
    description: `Anyone who may read the project, by worker id. ${HIDDEN}`,
  })
  @ApiPageResponse(ProjectMember, 'One page of members')
  @ApiProjectSlugParam()
  @ApiErrors(404, 422)
  async listMembers(
    @Param('slug', ParseProjectSlugPipe) slug: string,
    @Query() query: PaginationQuery,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProjectMember[]> {
    return sendPage(reply, await this.projects.listMembers(slug, user, query));
  }

  @Post(':slug/members')
  @HttpCode(200)
  @Audited('member_added')
  @ApiOperation({
    summary: 'Add a member or change its role (owners and admins)',
    description: `201 when the worker is added, 200 when its role changed (or already was the one sent: nothing is recorded then). The last owner cannot be demoted (409 \`last_owner\`). ${HIDDEN}`,
  })
  @ApiCreatedResponse({ type: ProjectMember, description: 'The new member' })
  @ApiOkResponse({ type: ProjectMember, description: 'The member, with its new role' })
  @ApiProjectSlugParam()
  @ApiErrors(400, 403, 404, 409, 413, 415, 422)
  async setMember(
    @Param('slug', ParseProjectSlugPipe) slug: string,
    @Body() dto: SetMemberDto,
    @CurrentUser() user: AuthUser,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProjectMember> {
    const { member, added } = await this.projects.setMember(slug, dto, user);
    if (added) reply.status(201);
    return member;
  }

  @Delete(':slug/members/:worker_id')
  @HttpCode(204)
  @Audited('member_removed')
  @ApiOperation({
    summary: 'Remove a member (owners and admins, or the member itself)',
    description: `The last owner cannot be removed (409 \`last_owner\`). ${HIDDEN}`,
  })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProjectSlugParam()
  @ApiWorkerIdParam('worker_id')
  @ApiBodyErrors()
  @ApiErrors(403, 404, 409, 422)
  removeMember(
    @Param('slug', ParseProjectSlugPipe) slug: string,
    @Param('worker_id', ParseWorkerIdPipe) workerId: string,
    @CurrentUser() user: AuthUser,
  ): Promise<void> {
    return this.projects.removeMember(slug, workerId, user);
  }
}

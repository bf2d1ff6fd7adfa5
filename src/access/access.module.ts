import { Global, Module } from '@nestjs/common';
import { ProjectAccess } from './project-access.service';
import { ProjectMemberRepository } from './project-member.repository';
import { ProjectRepository } from './project.repository';

/** Global: every feature applies the same project rule (tasks, audit, projects). */
@Global()
@Module({
  providers: [ProjectRepository, ProjectMemberRepository, ProjectAccess],
  exports: [ProjectRepository, ProjectMemberRepository, ProjectAccess],
})
export class AccessModule {}

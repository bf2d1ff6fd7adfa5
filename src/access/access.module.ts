import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Project } from './project.entity';
import { ProjectMember } from './project-member.entity';
import { ProjectAccess } from './project-access.service';
import { ProjectMemberRepository } from './project-member.repository';
import { ProjectRepository } from './project.repository';

/** Global: every feature applies the same project rule (tasks, audit, projects). */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([Project, ProjectMember])],
  providers: [ProjectRepository, ProjectMemberRepository, ProjectAccess],
  exports: [ProjectRepository, ProjectMemberRepository, ProjectAccess],
})
export class AccessModule {}

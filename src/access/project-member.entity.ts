import { ApiProperty } from '@nestjs/swagger';
import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { PROJECT_ROLES, ProjectRole } from './project-access';
import { Project } from './project.entity';

/** A worker's role in a project. Agents are members like people. */
@Entity({ name: 'project_members' })
@Index('idx_project_members_worker', ['worker_id', 'project_slug'])
export class ProjectMember {
  @ApiProperty({ example: 'website' })
  @PrimaryColumn({ type: 'varchar', length: 100, primaryKeyConstraintName: 'pk_project_members' })
  project_slug: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_slug', foreignKeyConstraintName: 'fk_project_members_project' })
  project?: Project;

  @ApiProperty({
    example: 'agent-claude-1',
    maxLength: 255,
    description: 'A worker id (the JWT `sub`).',
  })
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_project_members' })
  worker_id: string;

  @ApiProperty({ enum: PROJECT_ROLES, enumName: 'ProjectRole', example: 'member' })
  @Column({ type: 'enum', enum: PROJECT_ROLES, enumName: 'project_role' })
  role: ProjectRole;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @CreateDateColumn({ type: 'timestamptz' })
  added_at: Date;
}

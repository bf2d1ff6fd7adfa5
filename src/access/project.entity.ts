import { ApiProperty } from '@nestjs/swagger';
import { Check, Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import {
  PROJECT_VISIBILITIES,
  ProjectVisibility,
  REVIEW_POLICIES,
  ReviewPolicy,
} from './project-access';

/** A project: who sees and changes its tasks (README, "Projects and access"). */
@Entity({ name: 'projects' })
@Check('chk_projects_description_length', `char_length("description") <= 10000`)
export class Project {
  @ApiProperty({ example: 'website', pattern: '^[a-z0-9-]{1,100}$', maxLength: 100 })
  @PrimaryColumn({ type: 'varchar', length: 100, primaryKeyConstraintName: 'pk_projects' })
  slug: string;

  @ApiProperty({ example: 'Website relaunch', maxLength: 200 })
  @Column({ type: 'varchar', length: 200 })
  name: string;

  @ApiProperty({ type: String, nullable: true, maxLength: 10000, example: null })
  @Column({ type: 'text', nullable: true })
  description: string | null;

  @ApiProperty({
    enum: PROJECT_VISIBILITIES,
    enumName: 'ProjectVisibility',
    example: 'internal',
    description:
      '`internal`: every authenticated user reads, members write; `private`: only members read and write.',
  })
  @Column({
    type: 'enum',
    enum: PROJECT_VISIBILITIES,
    enumName: 'project_visibility',
    default: 'internal',
  })
  visibility: ProjectVisibility;

  @ApiProperty({
    enum: REVIEW_POLICIES,
    enumName: 'ReviewPolicy',
    example: 'other',
    description:
      'Who signs off work in review. `other`: anyone but the assignee. `human`: on a task held by an agent, only a person approves or rejects (403 `human_review_required`), and the agent cannot complete it without review (409 `review_required`).',
  })
  @Column({ type: 'enum', enum: REVIEW_POLICIES, enumName: 'review_policy', default: 'other' })
  review_policy: ReviewPolicy;

  @ApiProperty({ example: 'usr_7f3a', description: "Server-owned: the creator's `sub`." })
  @Column({ type: 'varchar', length: 255 })
  owner: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  @UpdateDateColumn({ type: 'timestamptz' })
  updated_at: Date;

  /**
   * Set when the project is deleted; never in an answer, since a deleted project is not served.
   * The row stays so that its history keeps its readers and its slug is not handed out again.
   */
  @Column({ type: 'timestamptz', nullable: true })
  deleted_at?: Date | null;
}

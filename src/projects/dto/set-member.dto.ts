import { ApiProperty } from '@nestjs/swagger';
import { IsIn, Matches } from 'class-validator';
import { PROJECT_ROLES, ProjectRole } from '../../access/project-access';
import { IsText } from '../../common/validation/decorators';
import {
  WORKER_ID_MAX_LENGTH,
  WORKER_ID_PATTERN,
  WORKER_ID_RULE,
} from '../../common/validation/worker-id';

/** Adds a worker to a project, or changes the role it has there. */
export class SetMemberDto {
  @ApiProperty({
    maxLength: WORKER_ID_MAX_LENGTH,
    pattern: WORKER_ID_PATTERN.source,
    example: 'agent-claude-1',
    description:
      'A worker id (the JWT `sub`), without control or bidirectional-override characters. It need not be registered in `/api/workers`.',
  })
  @IsText({ min: 1, max: WORKER_ID_MAX_LENGTH, nonBlank: true })
  @Matches(WORKER_ID_PATTERN, { message: `worker_id must be ${WORKER_ID_RULE}` })
  worker_id: string;

  @ApiProperty({
    enum: PROJECT_ROLES,
    enumName: 'ProjectRole',
    example: 'member',
    description:
      '`owner` manages the project and its members, `member` works on its tasks, `viewer` reads.',
  })
  @IsIn(PROJECT_ROLES, { message: `role must be one of ${PROJECT_ROLES.join(', ')}` })
  role: ProjectRole;
}

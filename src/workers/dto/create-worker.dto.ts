import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, Matches, NotEquals } from 'class-validator';
import { IsOptionalNotNull, IsText } from '../../common/validation/decorators';
import {
  RESERVED_WORKER_ID_RULE,
  WORKER_ID_PATTERN,
  WORKER_ID_RULE,
} from '../../common/validation/worker-id';
import { SYSTEM_SWEEPER_ID, WORKER_TYPES, WorkerType } from '../../common/worker-types';

export class CreateWorkerDto {
  @ApiPropertyOptional({
    maxLength: 255,
    pattern: WORKER_ID_PATTERN.source,
    example: 'agent-claude-1',
    description: `The worker's JWT \`sub\`, without control or bidirectional-override characters; not \`${SYSTEM_SWEEPER_ID}\`, the API's own sweeper. Defaults to the caller's own; only admins may name another.`,
  })
  @IsOptionalNotNull()
  @IsText({ min: 1, max: 255, nonBlank: true })
  @Matches(WORKER_ID_PATTERN, { message: `id must be ${WORKER_ID_RULE}` })
  @NotEquals(SYSTEM_SWEEPER_ID, { message: `id ${RESERVED_WORKER_ID_RULE}` })
  id?: string;

  @ApiProperty({ maxLength: 200, example: 'Claude (triage)' })
  @IsText({ min: 1, max: 200, nonBlank: true })
  name: string;

  @ApiPropertyOptional({
    enum: WORKER_TYPES,
    enumName: 'WorkerType',
    default: 'human',
    description: 'Only admins may register an `agent`.',
  })
  @IsOptionalNotNull()
  @IsIn(WORKER_TYPES, { message: `type must be one of ${WORKER_TYPES.join(', ')}` })
  type?: WorkerType;

  @ApiPropertyOptional({
    type: [String],
    maxItems: 50,
    example: ['python', 'code-review'],
    description: 'What the worker can do, for routing work to agents.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(50)
  @IsText({ min: 1, max: 100, nonBlank: true }, { each: true })
  capabilities?: string[];
}

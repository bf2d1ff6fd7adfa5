import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { PaginationQuery } from '../../common/pagination/pagination.query';
import { IsOptionalNotNull } from '../../common/validation/decorators';
import { WORKER_TYPES, WorkerType } from '../../common/worker-types';

export class ListWorkersQuery extends PaginationQuery {
  @ApiPropertyOptional({ enum: WORKER_TYPES, enumName: 'WorkerType' })
  @IsOptionalNotNull()
  @IsIn(WORKER_TYPES, { message: `type must be one of ${WORKER_TYPES.join(', ')}` })
  type?: WorkerType;
}

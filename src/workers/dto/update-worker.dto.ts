import { OmitType, PartialType } from '@nestjs/swagger';
import { CreateWorkerDto } from './create-worker.dto';

/** Name, type and capabilities; the id (the JWT `sub`) never changes. */
export class UpdateWorkerDto extends PartialType(OmitType(CreateWorkerDto, ['id'] as const), {
  skipNullProperties: false,
}) {}

import { OmitType } from '@nestjs/swagger';
import { PatchType } from '../../common/openapi/patch-type';
import { CreateWorkerDto } from './create-worker.dto';

/** Name, type and capabilities; the id (the JWT `sub`) never changes. Only the fields sent change. */
export class UpdateWorkerDto extends PatchType(OmitType(CreateWorkerDto, ['id'] as const)) {}

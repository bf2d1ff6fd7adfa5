import { OmitType } from '@nestjs/swagger';
import { PatchType } from '../../common/openapi/patch-type';
import { CreateProjectDto } from './create-project.dto';

/** Name, description, visibility and review policy; the slug never changes. Only the fields sent change. */
export class UpdateProjectDto extends PatchType(OmitType(CreateProjectDto, ['slug'] as const)) {}

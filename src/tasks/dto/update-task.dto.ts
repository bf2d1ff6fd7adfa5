import { PatchType } from '../../common/openapi/patch-type';
import { CreateTaskDto } from './create-task.dto';

/** Only the fields sent change; see `PatchType`. */
export class UpdateTaskDto extends PatchType(CreateTaskDto) {}

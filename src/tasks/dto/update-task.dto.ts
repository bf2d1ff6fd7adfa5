import { PartialType } from '@nestjs/swagger';
import { CreateTaskDto } from './create-task.dto';

/**
 * Every field optional; a field that is sent is validated as on create, so `null` is accepted
 * only where the field is nullable (`skipNullProperties: false`).
 */
export class UpdateTaskDto extends PartialType(CreateTaskDto, { skipNullProperties: false }) {}

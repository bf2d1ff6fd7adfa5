import { Injectable } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { ApiKeyRepository } from '../auth/api-key.repository';
import type { AuthUser } from '../auth/auth-user';
import { TokenVerifier } from '../auth/token-verifier';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import { fieldChanges } from '../common/field-changes';
import { DEFAULT_PAGE_SIZE, Page } from '../common/pagination/pagination.query';
import { CreateWorkerDto } from './dto/create-worker.dto';
import { ListWorkersQuery } from './dto/list-workers.query';
import { UpdateWorkerDto } from './dto/update-worker.dto';
import { Worker } from './worker.entity';
import { WorkerChanges, WorkerRepository } from './worker.repository';
import type { WorkerType } from '../common/worker-types';

const EDITABLE = ['name', 'type', 'capabilities'] as const;
type Editable = (typeof EDITABLE)[number];

@Injectable()
export class WorkersService {
  constructor(
    private readonly workers: WorkerRepository,
    private readonly keys: ApiKeyRepository,
    private readonly verifier: TokenVerifier,
    private readonly trail: AuditTrail,
  ) {}

  /**
   * Admins register anyone; a plain user only itself, only as `human` and with no capabilities:
   * capabilities gate which tasks a worker may claim, so only an admin grants them.
   */
  async register(dto: CreateWorkerDto, caller: AuthUser): Promise<Worker> {
    const id = dto.id ?? caller.id;
    const type = dto.type ?? 'human';
    if (!caller.isAdmin) {
      if (id !== caller.id)
        throw new ForbiddenError('Only admins may register another worker', 'admin_required');
      if (type === 'agent')
        throw new ForbiddenError('Only admins may register agents', 'admin_required');
      if (dto.capabilities?.length) {
        throw ValidationFailedError.field(
          'capabilities',
          'capabilities are granted by an admin; register without them',
        );
      }
    }
    const worker = await this.workers.insert({
      id,
      name: dto.name,
      type,
      capabilities: dto.capabilities ?? [],
    });
    if (!worker) throw new ConflictError(`Worker ${id} is already registered`, 'worker_exists');
    this.trail.record({
      context: { worker_id: id, name: worker.name, type, capabilities: worker.capabilities },
    });
    return worker;
  }

  list(query: ListWorkersQuery): Promise<Page<Worker>> {
    return this.workers.page(query.type, query.limit ?? DEFAULT_PAGE_SIZE, query.offset ?? 0);
  }

  async findOne(id: string): Promise<Worker> {
    const worker = await this.workers.find(id);
    if (!worker) throw new NotFoundError(`Worker ${id} not found`, 'worker_not_found');
    return worker;
  }

  /** The caller's type as the registry knows it; `human` for an unregistered `sub`. */
  async typeOf(id: string): Promise<WorkerType> {
    return (await this.workers.typeOf(id)) ?? 'human';
  }

  async update(id: string, dto: UpdateWorkerDto): Promise<Worker> {
    const current = await this.workers.lock(id);
    if (!current) throw new NotFoundError(`Worker ${id} not found`, 'worker_not_found');
    const { changes, values } = fieldChanges<WorkerChanges, Editable>(current, dto, EDITABLE);
    if (Object.keys(changes).length === 0) {
      this.trail.unchanged();
      return current;
    }
    const updated = await this.workers.update(id, values);
    this.trail.record({ context: { worker_id: id, ...changes } });
    return updated;
  }

  async remove(id: string): Promise<void> {
    const deleted = await this.workers.delete(id);
    if (!deleted) throw new NotFoundError(`Worker ${id} not found`, 'worker_not_found');
    this.trail.record({ context: { worker_id: id, name: deleted.name, type: deleted.type } });
    // Its keys go with it: one registered again under this id does not inherit them.
    for (const key of await this.keys.revokeAllOf(id)) this.verifier.forgetKey(key.id);
  }
}

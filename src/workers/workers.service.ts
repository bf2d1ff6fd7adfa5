import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Repository } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail';
import type { AuthUser } from '../auth/auth-user';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../common/errors/domain-errors';
import { Page, paginate } from '../common/pagination/pagination.query';
import { CreateWorkerDto } from './dto/create-worker.dto';
import { ListWorkersQuery } from './dto/list-workers.query';
import { UpdateWorkerDto } from './dto/update-worker.dto';
import { Worker } from './worker.entity';
import type { WorkerType } from './worker.enums';

const EDITABLE = ['name', 'type', 'capabilities'] as const;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

@Injectable()
export class WorkersService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly trail: AuditTrail,
  ) {}

  private get workers(): Repository<Worker> {
    return this.txHost.tx.getRepository(Worker);
  }

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
    const result = await this.workers
      .createQueryBuilder()
      .insert()
      .values({ id, name: dto.name, type, capabilities: dto.capabilities ?? [] })
      .orIgnore()
      .returning('*')
      .execute();
    const worker = (result.raw as Worker[])[0];
    if (!worker) throw new ConflictError(`Worker ${id} is already registered`, 'worker_exists');
    this.trail.record({
      context: { worker_id: id, name: worker.name, type, capabilities: worker.capabilities },
    });
    return this.workers.create(worker);
  }

  async list(query: ListWorkersQuery): Promise<Page<Worker>> {
    const qb = this.workers.createQueryBuilder('w').orderBy('w.id', 'ASC');
    if (query.type) qb.where('w.type = :type', { type: query.type });
    return paginate(qb, query);
  }

  async findOne(id: string): Promise<Worker> {
    const worker = await this.workers.findOneBy({ id });
    if (!worker) throw new NotFoundError(`Worker ${id} not found`, 'worker_not_found');
    return worker;
  }

  /** The caller's type as the registry knows it; `human` for an unregistered `sub`. */
  async typeOf(id: string): Promise<WorkerType> {
    const worker = await this.workers.findOne({ select: { type: true }, where: { id } });
    return worker?.type ?? 'human';
  }

  async update(id: string, dto: UpdateWorkerDto): Promise<Worker> {
    const current = await this.workers
      .createQueryBuilder('w')
      .setLock('for_no_key_update')
      .where('w.id = :id', { id })
      .getOne();
    if (!current) throw new NotFoundError(`Worker ${id} not found`, 'worker_not_found');
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const field of EDITABLE) {
      const next = dto[field];
      if (next !== undefined && !same(current[field], next)) {
        changes[field] = { from: current[field], to: next };
      }
    }
    if (Object.keys(changes).length === 0) {
      this.trail.unchanged();
      return current;
    }
    const values = Object.fromEntries(Object.entries(changes).map(([k, v]) => [k, v.to]));
    const result = await this.workers
      .createQueryBuilder()
      .update()
      .set(values)
      .where('id = :id', { id })
      .returning('*')
      .execute();
    this.trail.record({ context: { worker_id: id, ...changes } });
    return this.workers.create((result.raw as Worker[])[0]);
  }

  async remove(id: string): Promise<void> {
    const result = await this.workers
      .createQueryBuilder()
      .delete()
      .where('id = :id', { id })
      .returning('*')
      .execute();
    const deleted = (result.raw as Worker[])[0];
    if (!deleted) throw new NotFoundError(`Worker ${id} not found`, 'worker_not_found');
    this.trail.record({ context: { worker_id: id, name: deleted.name, type: deleted.type } });
  }
}

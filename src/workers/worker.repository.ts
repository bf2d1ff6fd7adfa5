import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Page } from '../common/pagination/pagination.query';
import type { WorkerType } from '../common/worker-types';
import { TableRepository } from '../database/table-repository';
import { Worker } from './worker.entity';

/** The fields an admin may change. */
export type WorkerChanges = Partial<Pick<Worker, 'name' | 'type' | 'capabilities'>>;

const toWorker = (row: Worker): Worker => ({
  id: row.id,
  name: row.name,
  type: row.type,
  capabilities: row.capabilities,
  created_at: row.created_at,
});

/** The `workers` table: the registry of humans and agents, keyed by their JWT `sub`. */
@Injectable()
export class WorkerRepository extends TableRepository<Worker> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, Worker);
  }

  /** Registers a worker; undefined when the id is already taken. */
  async insert(worker: Omit<Worker, 'created_at'>): Promise<Worker | undefined> {
    const inserted = await this.writable
      .createQueryBuilder()
      .insert()
      .values(worker)
      .orIgnore()
      .returning('*')
      .execute();
    const [row] = inserted.raw as Worker[];
    return row && toWorker(row);
  }

  async find(id: string): Promise<Worker | undefined> {
    const row = await this.repository.findOneBy({ id });
    return row ? toWorker(row) : undefined;
  }

  /** `find`, with the row locked until the transaction ends (for a read-modify-write). */
  async lock(id: string): Promise<Worker | undefined> {
    const row = await this.writable.findOne({
      where: { id },
      lock: { mode: 'for_no_key_update' },
    });
    return row ? toWorker(row) : undefined;
  }

  async typeOf(id: string): Promise<WorkerType | undefined> {
    const row = await this.repository.findOne({ select: { type: true }, where: { id } });
    return row?.type;
  }

  /** A worker's registered capabilities; undefined when it is not registered. */
  async capabilitiesOf(id: string): Promise<string[] | undefined> {
    const row = await this.repository.findOne({ select: { capabilities: true }, where: { id } });
    return row?.capabilities;
  }

  /** One page in id order, and how many match in all. */
  async page(type: WorkerType | undefined, limit: number, offset: number): Promise<Page<Worker>> {
    const [rows, total] = await this.repository.findAndCount({
      where: type === undefined ? {} : { type },
      order: { id: 'ASC' },
      take: limit,
      skip: offset,
    });
    return { items: rows.map(toWorker), total };
  }

  /** Writes the given fields of a worker that exists (the caller locked it). */
  async update(id: string, changes: WorkerChanges): Promise<Worker> {
    const set = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    ) as WorkerChanges;
    if (Object.keys(set).length === 0) return (await this.lock(id))!;
    const updated = await this.writable
      .createQueryBuilder()
      .update()
      .set(set)
      .where('id = :id', { id })
      .returning('*')
      .execute();
    return toWorker((updated.raw as Worker[])[0]);
  }

  /** Deletes a worker; undefined when there was none. */
  async delete(id: string): Promise<Worker | undefined> {
    const deleted = await this.writable
      .createQueryBuilder()
      .delete()
      .where('id = :id', { id })
      .returning('*')
      .execute();
    const [row] = deleted.raw as Worker[];
    return row && toWorker(row);
  }
}

import { Injectable } from '@nestjs/common';
import type { Page } from '../common/pagination/pagination.query';
import type { WorkerType } from '../common/worker-types';
import { Conditions } from '../database/conditions';
import { Db } from '../database/db';
import type { Worker } from './worker.entity';

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
export class WorkerRepository {
  constructor(private readonly db: Db) {}

  /** Registers a worker; undefined when the id is already taken. */
  async insert(worker: Omit<Worker, 'created_at'>): Promise<Worker | undefined> {
    const [row] = await this.db.write<Worker>(
      `INSERT INTO workers (id, name, type, capabilities) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING RETURNING *`,
      [worker.id, worker.name, worker.type, worker.capabilities],
    );
    return row && toWorker(row);
  }

  async find(id: string): Promise<Worker | undefined> {
    const [row] = await this.db.rows<Worker>(`SELECT * FROM workers WHERE id = $1`, [id]);
    return row && toWorker(row);
  }

  /** `find`, with the row locked until the transaction ends (for a read-modify-write). */
  async lock(id: string): Promise<Worker | undefined> {
    const [row] = await this.db.write<Worker>(
      `SELECT * FROM workers WHERE id = $1 FOR NO KEY UPDATE`,
      [id],
    );
    return row && toWorker(row);
  }

  async typeOf(id: string): Promise<WorkerType | undefined> {
    const [row] = await this.db.rows<{ type: WorkerType }>(
      `SELECT type FROM workers WHERE id = $1`,
      [id],
    );
    return row?.type;
  }

  /** A worker's registered capabilities; undefined when it is not registered. */
  async capabilitiesOf(id: string): Promise<string[] | undefined> {
    const [row] = await this.db.rows<{ capabilities: string[] }>(
      `SELECT capabilities FROM workers WHERE id = $1`,
      [id],
    );
    return row?.capabilities;
  }

  /** One page in id order, and how many match in all. */
  async page(type: WorkerType | undefined, limit: number, offset: number): Promise<Page<Worker>> {
    const where = new Conditions().add((p) => `type = ${p}`, type);
    const filterParams = [...where.params];
    const rows = await this.db.rows<Worker>(
      `SELECT * FROM workers${where.sql} ORDER BY id ASC LIMIT ${where.param(limit)} OFFSET ${where.param(offset)}`,
      where.params,
    );
    const [{ total }] = await this.db.rows<{ total: number }>(
      `SELECT count(*)::integer AS total FROM workers${where.sql}`,
      filterParams,
    );
    return { items: rows.map(toWorker), total };
  }

  async update(id: string, changes: WorkerChanges): Promise<Worker> {
    const [row] = await this.db.write<Worker>(
      `UPDATE workers SET name = COALESCE($2, name), type = COALESCE($3, type),
              capabilities = COALESCE($4, capabilities)
        WHERE id = $1 RETURNING *`,
      [id, changes.name ?? null, changes.type ?? null, changes.capabilities ?? null],
    );
    return toWorker(row);
  }

  /** Deletes a worker; undefined when there was none. */
  async delete(id: string): Promise<Worker | undefined> {
    const [row] = await this.db.write<Worker>(`DELETE FROM workers WHERE id = $1 RETURNING *`, [
      id,
    ]);
    return row && toWorker(row);
  }
}

import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { EntityTarget, ObjectLiteral, Repository } from 'typeorm';
import { ServiceUnavailableError } from '../common/errors/domain-errors';

/** What `prepared` needs of the connection a QueryRunner holds (node-postgres's client). */
interface PreparingClient {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * What each table's repository class is built on: TypeORM's `Repository<Entity>` for its table,
 * taken from the EntityManager of the current unit of work's transaction when one is open (the
 * TypeORM adapter of `@nestjs-cls/transactional` carries it, so no service passes it along) and
 * from the DataSource's otherwise.
 *
 * Subclasses use TypeORM's API where it expresses the query, and SQL through the same repository
 * where it cannot (`select`, `write`; `prepared` for the hot statements): CTEs, row locks and
 * `SKIP LOCKED`, and the visibility rule's subqueries, which every read of tasks, projects and
 * audit entries applies.
 */
export abstract class TableRepository<Entity extends ObjectLiteral> {
  protected constructor(
    protected readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly entity: EntityTarget<Entity>,
  ) {}

  /** The table's TypeORM repository, on the open transaction if there is one. */
  protected get repository(): Repository<Entity> {
    const manager = this.txHost.tx;
    // The API starts while PostgreSQL is down (DatabaseConnector); until it connects, TypeORM has
    // no metadata and no pool, and the answer is the 503 the guard gives, not a TypeError.
    if (!manager.connection.isInitialized) {
      throw new ServiceUnavailableError('Database unavailable, try again shortly');
    }
    return manager.getRepository(this.entity);
  }

  /**
   * `repository`, for a change (or a row lock): only inside a transaction, which only a unit of
   * work opens, so a service called outside one fails before it writes, never leaving a change
   * without its audit entry.
   */
  protected get writable(): Repository<Entity> {
    const repository = this.repository;
    if (!this.txHost.isTransactionActive() || !repository.queryRunner) {
      throw new Error('a write outside a unit of work (run it through UnitOfWork.run)');
    }
    return repository;
  }

  /** The rows of a read, in the transaction when one is open. */
  protected select<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.repository.query<T[]>(sql, params);
  }

  /**
   * The rows of one of the board's hot statements (whose text never changes), run as a named
   * prepared statement: each connection has PostgreSQL plan it once instead of on every call
   * (the visibility rule's subqueries cost more to plan than to run), and the driver sends and
   * parses less. TypeORM's `query()` cannot name a statement, so this asks the QueryRunner for
   * its connection (`QueryRunner.connect()`, part of TypeORM's public API): the connection, and
   * the transaction, that `query()` would have used. Measured in docs/benchmark.md.
   */
  protected prepared<T>(name: string, sql: string, params: unknown[] = []): Promise<T[]> {
    return this.runPrepared<T>(this.repository, name, sql, params);
  }

  /** `prepared`, for a statement that changes or locks rows: only in a unit of work's transaction. */
  protected preparedWrite<T>(name: string, sql: string, params: unknown[] = []): Promise<T[]> {
    return this.runPrepared<T>(this.writable, name, sql, params);
  }

  private async runPrepared<T>(
    repository: Repository<Entity>,
    name: string,
    sql: string,
    params: unknown[],
  ): Promise<T[]> {
    // Outside a transaction, a runner of its own for this one statement, as `query()` does.
    const own = repository.queryRunner
      ? undefined
      : repository.manager.connection.createQueryRunner();
    const runner = repository.queryRunner ?? own!;
    try {
      const client = (await runner.connect()) as PreparingClient;
      const result = await client.query({ name, text: sql, values: params });
      return result.rows as T[];
    } finally {
      // Only a runner of our own is released; inside a transaction, `await undefined` would still
      // cost a promise per statement (three in a progress report; docs/benchmark.md, round three).
      if (own) await own.release();
    }
  }

  /** The rows of a statement that changes or locks rows, in the unit of work's transaction. */
  protected async write<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    // The structured result: `Repository.query` answers UPDATE and DELETE as [rows, count].
    const result = await this.writable.queryRunner!.query(sql, params, true);
    return result.records as T[];
  }
}

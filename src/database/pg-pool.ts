import * as pg from 'pg';

/**
 * The pg `Pool` behind the app's DataSource. TypeORM builds it on `initialize()` from the `pg`
 * module named in its documented `driver` option; handing it this module's subclass lets the
 * repositories and the metrics use the pool through pg's own public API, with no reach into
 * TypeORM's driver internals. One pool per app: TypeORM's own queries (migrations at boot, the
 * health ping) and the repositories share its connections.
 */
export class PgPool {
  private pool?: pg.Pool;

  get current(): pg.Pool | undefined {
    return this.pool;
  }

  /** The `driver` option of the app's DataSource: `pg` itself, except that it reports its pool. */
  driver(): typeof pg {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the subclass reports to this holder
    const holder = this;
    class ReportedPool extends pg.Pool {
      constructor(config?: pg.PoolConfig) {
        super(config);
        holder.pool = this;
      }
    }
    return Object.create(pg, { Pool: { value: ReportedPool } }) as typeof pg;
  }
}

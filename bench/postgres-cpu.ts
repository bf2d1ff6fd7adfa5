import { readFileSync } from 'node:fs';
import type { Client } from 'pg';
import { childrenCpuMs, procStat } from './processes';

/**
 * PostgreSQL's CPU time, all of it: every process the postmaster forked (backends, parallel
 * workers, autovacuum, the WAL writer, the checkpointer…), the ones that exited meanwhile
 * included, and the postmaster itself. A request costs more than its own backend's time: the
 * WAL its commit flushes, the vacuum its update calls for, a pooled connection replaced.
 *
 * The total at any moment is the postmaster's own time, plus its cutime + cstime (what the
 * children it has reaped used, whole lifetimes), plus the time of each live child; the
 * difference between two totals is exactly what PostgreSQL used in between, since a child that
 * exits moves its whole time from the live sum into cutime. That takes PostgreSQL on this
 * machine, in this pid namespace, and /proc readable (root, or the postgres user).
 *
 * Backends of other databases (other people's tests on a shared server) are taken out where
 * they can be: those alive at the end of the window (pg_stat_activity names their database).
 * One that exited during the window cannot be told apart any more; `foreignExited` counts the
 * ones seen at the start and gone at the end, so a polluted window can at least be recognised.
 */

export interface PostgresCpuSample {
  /** The postmaster's own time plus what its reaped children used, ms. */
  postmasterMs: number;
  /** Each live child's time, ms. */
  children: Map<number, number>;
  /** Children serving another database than the bench's. */
  foreign: Set<number>;
}

export interface PostgresCpuDelta {
  /** PostgreSQL's CPU time in the window, other databases' live backends taken out, ms. */
  ms: number;
  /** Backends of other databases alive at the start and gone at the end: still counted. */
  foreignExited: number;
}

export class PostgresCpu {
  private constructor(
    readonly postmasterPid: number,
    private readonly db: Client,
  ) {}

  /**
   * Finds the postmaster: the parent of this connection's backend, which must be a `postgres`
   * process here (not when PostgreSQL runs elsewhere or in a container's pid namespace). Also
   * where `postmaster.pid` in the data directory says, when it can be read, as a check.
   */
  static async locate(db: Client): Promise<PostgresCpu | { unavailable: string }> {
    const own = await db.query<{ pid: number; dir: string }>(
      `SELECT pg_backend_pid() AS pid, current_setting('data_directory') AS dir`,
    );
    const { pid, dir } = own.rows[0];
    const isPostgres = (p: number) => {
      try {
        return /^postgres|^postmaster/.test(readFileSync(`/proc/${p}/comm`, 'utf8'));
      } catch {
        return false;
      }
    };
    const parent = procStat(pid)?.ppid;
    if (!parent || !isPostgres(pid) || !isPostgres(parent)) {
      return { unavailable: `backend ${pid} is not a postgres process on this machine` };
    }
    try {
      const recorded = Number(readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]);
      if (recorded !== parent) {
        return {
          unavailable: `postmaster.pid says ${recorded}, the backend's parent is ${parent}`,
        };
      }
    } catch {
      // Not readable as this user: the parent alone will do.
    }
    return new PostgresCpu(parent, db);
  }

  /** Reads /proc at once (the window's edge), then asks which backends serve other databases. */
  async sample(): Promise<PostgresCpuSample> {
    const postmaster = procStat(this.postmasterPid);
    const children = childrenCpuMs(this.postmasterPid);
    const postmasterMs = postmaster ? postmaster.cpuMs + postmaster.reapedChildrenMs : 0;
    const others = await this.db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname IS NOT NULL AND datname <> current_database()`,
    );
    return { postmasterMs, children, foreign: new Set(others.rows.map((r) => r.pid)) };
  }

  static delta(start: PostgresCpuSample, end: PostgresCpuSample): PostgresCpuDelta {
    const total = (s: PostgresCpuSample) =>
      s.postmasterMs + [...s.children.values()].reduce((a, b) => a + b, 0);
    let foreignMs = 0;
    for (const pid of end.foreign) {
      const at = end.children.get(pid);
      if (at !== undefined) foreignMs += at - (start.children.get(pid) ?? 0);
    }
    const foreignExited = [...start.foreign].filter((pid) => !end.children.has(pid)).length;
    return { ms: Math.max(0, total(end) - total(start) - foreignMs), foreignExited };
  }
}

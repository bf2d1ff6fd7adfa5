import 'reflect-metadata';
import type { INestApplicationContext, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Client } from 'pg';
import pino from 'pino';
import { AppModule } from '../../src/app.module';
import type { AuditAction } from '../../src/audit/audit-actions';
import { UnitOfWork } from '../../src/audit/unit-of-work';
import type { AuthUser } from '../../src/auth/auth-user';
import { loadConfig } from '../../src/config/config';
import { freshDatabase, sql } from './database';
import { apiDatabaseEnv } from './env';

/** An `audit_entries` row as the owner reads it back. */
export interface AuditRow {
  id: string;
  task_id: number | null;
  project_slug: string | null;
  actor_id: string;
  actor_type: string;
  action: string;
  context: Record<string, unknown> | null;
  chain_seq: number;
  prev_hash: string | null;
  hash: string;
}

/**
 * The application without HTTP, in the style of immich's "medium" tests: the whole module graph
 * on a private, migrated PostgreSQL database (as the restricted app role, like the API), with no
 * Fastify adapter, no guards in the way and nobody verifying tokens. A test calls services the
 * way a scheduled job or a script would, through `UnitOfWork.run`, and checks the rows with SQL
 * as the database owner (`db`).
 */
export class ServiceContext {
  private constructor(
    private readonly app: INestApplicationContext,
    /** The owner's URL of this context's database, for checks in SQL. */
    readonly ownerUrl: string,
    /** A connection as the owner (superuser in the tests), for checks and for ageing rows. */
    readonly db: Client,
  ) {}

  static async start(): Promise<ServiceContext> {
    const ownerUrl = await freshDatabase();
    const config = loadConfig({
      NODE_ENV: 'test',
      ...apiDatabaseEnv(ownerUrl),
      // Required in some form by loadConfig; nothing verifies a token without HTTP.
      JWKS_URL: 'http://127.0.0.1:9/jwks',
      LOG_LEVEL: 'silent',
      RATE_LIMIT_PER_MINUTE: '0',
    });
    const app = await NestFactory.createApplicationContext(
      AppModule.forRoot(config, pino({ level: 'silent' })),
      { logger: false, abortOnError: false },
    );
    // Bootstrap hooks: the DatabaseConnector initialises the DataSource (and so the pool).
    await app.init();
    return new ServiceContext(app, ownerUrl, await sql(ownerUrl));
  }

  get<T>(type: Type<T>): T {
    return this.app.get(type);
  }

  /** Runs `fn` as one unit of work by `actor`, as a job outside any request would. */
  run<T>(actor: AuthUser | string, action: AuditAction, fn: () => Promise<T>): Promise<T> {
    const actorId = typeof actor === 'string' ? actor : actor.id;
    return this.get(UnitOfWork).run({ actorId, action }, fn);
  }

  /** The callers: an admin, a plain human user, and an agent (register it to make it one). */
  admin(id = 'admin-1'): AuthUser {
    return { id, email: `${id}@example.com`, role: 'admin,user', isAdmin: true };
  }

  human(id = 'human-1'): AuthUser {
    return { id, email: `${id}@example.com`, role: 'user', isAdmin: false };
  }

  agent(id = 'agent-1'): AuthUser {
    return { id, email: null, role: 'user', isAdmin: false };
  }

  /**
   * Projects the specs' tasks live in, arranged in SQL (the projects routes have their own
   * e2e spec): internal, with `members` as writing members.
   */
  async projects(slugs: string[], members: string[] = []): Promise<void> {
    await this.db.query(
      `INSERT INTO projects (slug, name, owner) SELECT s, s, 'admin-1' FROM unnest($1::text[]) s`,
      [slugs],
    );
    await this.db.query(
      `INSERT INTO project_members (project_slug, worker_id, role)
       SELECT s, m, 'member' FROM unnest($1::text[]) s, unnest($2::text[]) m`,
      [slugs, members],
    );
  }

  /** Rows of one statement as the owner. */
  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(text, params)).rows as T[];
  }

  /** The audit entries, oldest first; of one task when `taskId` is given. */
  audit(taskId?: number): Promise<AuditRow[]> {
    return taskId === undefined
      ? this.rows<AuditRow>('SELECT * FROM audit_entries ORDER BY id')
      : this.rows<AuditRow>('SELECT * FROM audit_entries WHERE task_id = $1 ORDER BY id', [taskId]);
  }

  async count(table: 'tasks' | 'audit_entries' | 'workers' | 'idempotency_keys'): Promise<number> {
    const [row] = await this.rows<{ n: number }>(`SELECT count(*)::integer AS n FROM ${table}`);
    return row.n;
  }

  async close(): Promise<void> {
    await this.db.end();
    await this.app.close();
  }
}

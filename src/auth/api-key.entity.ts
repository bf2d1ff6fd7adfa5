import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import type { ApiKeyScope } from './auth-user';

/**
 * An API key of a registered worker. Only the SHA-256 of the secret is kept, never the secret.
 * No foreign key to `workers`: the auth layer knows nothing of workers' entities; deleting a
 * worker revokes its keys in the same unit of work (WorkersService.remove), and a key is only
 * accepted while its worker is registered.
 */
@Entity({ name: 'api_keys' })
@Index('idx_api_keys_worker', ['worker_id', 'created_at'])
@Unique('uq_api_keys_secret_hash', ['secret_hash'])
export class ApiKey {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_api_keys' })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  worker_id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** The first characters of the secret after `tf_`: names the key in lists and logs. */
  @Column({ type: 'varchar', length: 16 })
  prefix: string;

  @Column({ type: 'char', length: 64 })
  secret_hash: string;

  @Column({ type: 'varchar', length: 10, array: true })
  scopes: ApiKeyScope[];

  /** Null: every project the worker may use. */
  @Column({ type: 'varchar', length: 100, array: true, nullable: true })
  projects: string[] | null;

  @Column({ type: 'timestamptz' })
  expires_at: Date;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;

  @Column({ type: 'timestamptz', nullable: true })
  last_used_at: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revoked_at: Date | null;
}

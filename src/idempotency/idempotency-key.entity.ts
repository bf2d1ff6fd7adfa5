import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/** A caller's Idempotency-Key and the answer its first request got (replayed for 24 hours). */
@Entity({ name: 'idempotency_keys' })
@Index('idx_idempotency_keys_created', ['created_at'])
export class IdempotencyKey {
  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_idempotency_keys' })
  actor_id: string;

  @PrimaryColumn({ type: 'varchar', length: 255, primaryKeyConstraintName: 'pk_idempotency_keys' })
  key: string;

  /** SHA-256 of method, path, query and body: the same key with another request is refused. */
  @Column({ type: 'char', length: 64 })
  fingerprint: string;

  @Column({ type: 'smallint', nullable: true })
  status_code: number | null;

  @Column({ type: 'jsonb', nullable: true })
  response: unknown;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;
}

import { Column, Entity, Index } from 'typeorm';
import { bigintAsNumber } from '../audit/audit-entry.entity';
import { ACTOR_TYPES, type ActorType } from '../common/worker-types';

/**
 * One audit entry the analytics summary counts (a completion, an approval, a rejection, a failure
 * or a usage report), already attributed: the database writes it in the entry's own transaction
 * (a trigger on `audit_entries`, see the AnalyticsFacts migration), so the summary reads a narrow,
 * time-ordered table instead of the whole log's contexts, and never looks a start up per
 * completion. Derived data: the log stays the record, and the migration rebuilt it from the log.
 */
@Entity({ name: 'analytics_facts' })
@Index('idx_analytics_facts_at', ['at'])
@Index('idx_analytics_facts_task', ['task_id'])
export class AnalyticsFact {
  /** The audit entry's id. */
  @Column({
    type: 'bigint',
    primary: true,
    primaryKeyConstraintName: 'pk_analytics_facts',
    transformer: bigintAsNumber,
  })
  entry_id: number;

  @Column({ type: 'integer' })
  task_id: number;

  /**
   * The project the task is in now (a move between projects updates it; a deleted task keeps its
   * last), so visibility follows the audit log's rule for the task's entries.
   */
  @Column({ type: 'varchar', length: 100, nullable: true })
  project_slug: string | null;

  /** `completed`, `approved`, `rejected`, `failed` or `usage_reported`. */
  @Column({ type: 'varchar', length: 40 })
  action: string;

  /** The entry's timestamp. */
  @Column({ type: 'timestamptz' })
  at: Date;

  /** Whose work it counts as: the latest starter for completions and rejections, else the actor. */
  @Column({ type: 'varchar', length: 255 })
  worker_id: string;

  @Column({ type: 'enum', enum: ACTOR_TYPES, enumName: 'worker_type' })
  worker_type: ActorType;

  /**
   * Microseconds from the start of the counted work (the latest `started` entry) to this entry,
   * for completions and rejections with a start: kept as an integer so that percentiles sort
   * integers and come out exact.
   */
  @Column({ type: 'bigint', nullable: true })
  cycle_us: string | null;

  @Column({ type: 'bigint', nullable: true })
  input_tokens: string | null;

  @Column({ type: 'bigint', nullable: true })
  output_tokens: string | null;

  @Column({ type: 'numeric', nullable: true })
  cost_usd: string | null;
}

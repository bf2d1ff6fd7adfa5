import {
  Check,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
} from 'typeorm';
import { Task } from './task.entity';

/** `task_id` is blocked by `depends_on_id` until that one is completed. */
@Entity({ name: 'task_dependencies' })
@Index('idx_task_dependencies_depends_on', ['depends_on_id'])
@Check('chk_task_dependencies_not_self', `"task_id" <> "depends_on_id"`)
export class TaskDependency {
  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'pk_task_dependencies' })
  task_id: number;

  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'pk_task_dependencies' })
  depends_on_id: number;

  @ManyToOne(() => Task, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'fk_task_dependencies_task' })
  task?: Task;

  @ManyToOne(() => Task, { onDelete: 'RESTRICT' })
  @JoinColumn({
    name: 'depends_on_id',
    foreignKeyConstraintName: 'fk_task_dependencies_depends_on',
  })
  dependsOn?: Task;

  @CreateDateColumn({ type: 'timestamptz' })
  created_at: Date;
}

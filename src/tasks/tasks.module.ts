import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Task } from './task.entity';
import { TaskDependency } from './task-dependency.entity';
import { WorkersModule } from '../workers/workers.module';
import { TaskDependenciesController } from './task-dependencies.controller';
import { TaskDependenciesService } from './task-dependencies.service';
import { TaskDependencyRepository } from './task-dependency.repository';
import { TaskIfMatch } from './task-etag';
import { TaskLifecycleController } from './task-lifecycle.controller';
import { TaskLifecycleService } from './task-lifecycle.service';
import { TaskRepository } from './task.repository';
import { TaskSweeper } from './task-sweeper';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';
import { InboxController } from './inbox.controller';
import { TaskArtifacts } from './task-artifacts';
import { TaskCollaborationController } from './task-collaboration.controller';
import { TaskCollaborationService } from './task-collaboration.service';
import { TaskComment } from './task-comment.entity';
import { TaskCommentRepository } from './task-comment.repository';
import { TaskThread } from './task-thread';

@Module({
  imports: [TypeOrmModule.forFeature([Task, TaskDependency, TaskComment]), WorkersModule],
  controllers: [
    TasksController,
    TaskLifecycleController,
    TaskDependenciesController,
    TaskCollaborationController,
    InboxController,
  ],
  providers: [
    TaskRepository,
    TaskDependencyRepository,
    TasksService,
    TaskLifecycleService,
    TaskDependenciesService,
    TaskIfMatch,
    TaskCommentRepository,
    TaskThread,
    TaskArtifacts,
    TaskCollaborationService,
    TaskSweeper,
  ],
  exports: [TasksService, TaskLifecycleService, TaskDependenciesService, TaskRepository],
})
export class TasksModule {}

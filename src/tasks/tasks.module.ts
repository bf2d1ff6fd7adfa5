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

@Module({
  imports: [TypeOrmModule.forFeature([Task, TaskDependency]), WorkersModule],
  controllers: [TasksController, TaskLifecycleController, TaskDependenciesController],
  providers: [
    TaskRepository,
    TaskDependencyRepository,
    TasksService,
    TaskLifecycleService,
    TaskDependenciesService,
    TaskIfMatch,
    TaskSweeper,
  ],
  exports: [TasksService, TaskLifecycleService, TaskDependenciesService, TaskRepository],
})
export class TasksModule {}

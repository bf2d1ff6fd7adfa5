import { Module } from '@nestjs/common';
import { TaskDependenciesController } from './task-dependencies.controller';
import { TaskDependenciesService } from './task-dependencies.service';
import { TaskLifecycleController } from './task-lifecycle.controller';
import { TaskLifecycleService } from './task-lifecycle.service';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  controllers: [TasksController, TaskLifecycleController, TaskDependenciesController],
  providers: [TasksService, TaskLifecycleService, TaskDependenciesService],
  exports: [TasksService],
})
export class TasksModule {}

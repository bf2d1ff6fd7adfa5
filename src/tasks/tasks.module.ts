import { Module } from '@nestjs/common';
import { TaskLifecycleController } from './task-lifecycle.controller';
import { TaskLifecycleService } from './task-lifecycle.service';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

@Module({
  controllers: [TasksController, TaskLifecycleController],
  providers: [TasksService, TaskLifecycleService],
  exports: [TasksService],
})
export class TasksModule {}

import { Module } from '@nestjs/common';
import { MeController } from './me.controller';
import { WorkerRepository } from './worker.repository';
import { WorkersController } from './workers.controller';
import { WorkersService } from './workers.service';

@Module({
  controllers: [WorkersController, MeController],
  providers: [WorkerRepository, WorkersService],
  exports: [WorkerRepository],
})
export class WorkersModule {}

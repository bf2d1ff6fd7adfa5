import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Worker } from './worker.entity';
import { MeController } from './me.controller';
import { WorkerRepository } from './worker.repository';
import { WorkersController } from './workers.controller';
import { WorkersService } from './workers.service';
import { WorkerKeysController } from './worker-keys.controller';
import { WorkerKeysService } from './worker-keys.service';

@Module({
  imports: [TypeOrmModule.forFeature([Worker])],
  controllers: [WorkersController, WorkerKeysController, MeController],
  providers: [WorkerRepository, WorkersService, WorkerKeysService],
  exports: [WorkerRepository],
})
export class WorkersModule {}

import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Worker } from './worker.entity';
import { MeController } from './me.controller';
import { WorkerRepository } from './worker.repository';
import { WorkersController } from './workers.controller';
import { WorkersService } from './workers.service';

@Module({
  imports: [TypeOrmModule.forFeature([Worker])],
  controllers: [WorkersController, MeController],
  providers: [WorkerRepository, WorkersService],
  exports: [WorkerRepository],
})
export class WorkersModule {}

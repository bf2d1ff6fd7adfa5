import { Module } from '@nestjs/common';
import { MetricsServer } from './metrics-server';
import { Metrics } from './metrics';

@Module({
  providers: [Metrics, MetricsServer],
  exports: [Metrics, MetricsServer],
})
export class MetricsModule {}

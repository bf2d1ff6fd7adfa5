import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AnalyticsFact } from './analytics-fact.entity';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsRepository } from './analytics.repository';
import { AnalyticsService } from './analytics.service';

/** The summary, read from `analytics_facts` (kept by the database from the audit log). */
@Module({
  imports: [TypeOrmModule.forFeature([AnalyticsFact])],
  controllers: [AnalyticsController],
  providers: [AnalyticsRepository, AnalyticsService],
})
export class AnalyticsModule {}

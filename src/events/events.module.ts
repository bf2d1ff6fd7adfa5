import { Module } from '@nestjs/common';
import { EventFeed } from './event-feed';
import { EventsController } from './events.controller';

/** `GET /api/events`: the audit log as a live event stream, fanned out from PostgreSQL. */
@Module({
  controllers: [EventsController],
  providers: [EventFeed],
  exports: [EventFeed],
})
export class EventsModule {}

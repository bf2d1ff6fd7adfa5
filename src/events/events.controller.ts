import { Controller, Get, Headers, Inject, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthUser } from '../auth/auth-user';
import { bearerTokenOrUndefined } from '../auth/bearer-token';
import { CurrentUser } from '../auth/current-user.decorator';
import { ValidationFailedError } from '../common/errors/domain-errors';
import { ApiAuthenticatedErrors, ApiErrors } from '../common/openapi/api-errors.decorator';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { EventsQuery, MAX_EVENT_ID } from './dto/events.query';
import { EventFeed } from './event-feed';
import { EventStream, RETRY_MS, answerHead } from './event-stream';

const LAST_EVENT_ID = /^\d{1,16}$/;

const STREAM_DESCRIPTION = `A \`text/event-stream\` (Server-Sent Events) of the audit log: every committed entry you may read (as \`GET /api/audit\` shows them), in the log's order (by writing transaction, then id: ids can commit out of order, and an entry is sent once every older writing transaction has finished), from any replica.

Each event is
\`\`\`
id: <entry id>
event: <action>
data: <the AuditEntry JSON, exactly as GET /api/audit returns it>
\`\`\`
\`: keep-alive\` comments come every EVENTS_HEARTBEAT_SECONDS (15) on a quiet stream, and the stream starts with \`retry: ${RETRY_MS}\`.

Resume: send the last id you received as \`Last-Event-ID\` (or \`?after=\`; the header wins when both are given) and you get every matching entry after it, none twice. The server may end a stream with one last event without an id: \`overflow\` (you fell too far behind), \`token_expired\` (your token, or API key, expired), \`token_revoked\` (your API key was revoked) or \`shutdown\`, whose data is \`{reason, message, last_event_id}\`; reconnect with Last-Event-ID. Browsers: EventSource cannot send Authorization, use a fetch-based reader (docs/events.md).

\`HEAD\` answers the stream's status and headers at once, without a body, and opens no stream.`;

/** `GET /api/events`: the live event stream (docs/events.md). */
@ApiTags('events')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api')
export class EventsController {
  constructor(
    private readonly feed: EventFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('events')
  @ApiOperation({
    summary: 'Stream audit entries live (Server-Sent Events)',
    description: STREAM_DESCRIPTION,
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (the last `id:` received). Wins over `after`.',
    schema: { type: 'string', pattern: '^[0-9]{1,16}$', example: '1017' },
  })
  @ApiOkResponse({
    description:
      'The stream, open until the client leaves. Each event: `id: <entry id>`, `event: <action>`, `data: <AuditEntry JSON>` (schema AuditEntry).',
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          description:
            'Server-Sent Events; the `data` of each event is one AuditEntry (#/components/schemas/AuditEntry) as JSON.',
          example:
            'retry: 2000\n\nid: 1017\nevent: progressed\ndata: {"id":1017,"task_id":42,"project_slug":"website","actor_id":"agent-claude-1","actor_type":"agent","action":"progressed","context":{"percent":60,"note":"tests pass"},"client":null,"timestamp":"2026-11-26T20:41:04.575Z","chain_seq":7,"prev_hash":null,"hash":"60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"}\n\n: keep-alive\n\n',
        },
      },
    },
  })
  @ApiErrors(422, 503)
  async stream(
    @Query() query: EventsQuery,
    @Headers('last-event-id') lastEventId: string | undefined,
    @CurrentUser() user: AuthUser,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const after = lastEventId === undefined ? query.after : parseLastEventId(lastEventId);
    // Refused as an ordinary answer while it can still be one; past the headers, a failure can
    // only end the stream.
    this.feed.assertReady();
    // Fastify runs this handler for HEAD too (exposeHeadRoute) and drops the body of what it is
    // sent, but a hijacked reply never reaches that step: HEAD would open a stream, subscribed
    // until the token expired, whose headers Node holds back since no body may follow. So HEAD
    // gets the headers alone, ended at once. Written raw, as the stream's are: sent through
    // Fastify, the answer would say `Content-Length: 0`, which misstates an endless GET body.
    void reply.hijack();
    if (request.method === 'HEAD') {
      answerHead(reply.raw, reply.getHeaders());
      return;
    }
    const stream = new EventStream(reply.raw, {
      heartbeatMs: this.config.events.heartbeatSeconds * 1000,
      maxBufferBytes: this.config.events.maxBufferBytes,
      expiresAt: user.keyExpiresAt ?? tokenExpiry(request.headers.authorization),
    });
    let stop: (() => void) | undefined;
    stream.open(reply.getHeaders(), () => stop?.());
    const filters = {
      project: query.project,
      taskId: query.task_id,
      actorType: query.actor_type,
      action: query.action,
    };
    try {
      stop = await this.feed.subscribe(user, filters, after, stream);
    } catch {
      stream.end('unavailable');
      return;
    }
    if (stream.ended) stop();
  }
}

/** The `Last-Event-ID` header: an entry id, else a 422 in the envelope. */
function parseLastEventId(header: string): number {
  const value = header.trim();
  if (!LAST_EVENT_ID.test(value) || Number(value) > MAX_EVENT_ID) {
    throw ValidationFailedError.field(
      'Last-Event-ID',
      `Last-Event-ID must be an event id: an integer from 0 to ${MAX_EVENT_ID}`,
    );
  }
  return Number(value);
}

/**
 * When the (already verified) bearer JWT expires: the stream ends then, so a token that runs
 * out cannot keep reading; the client reconnects with a fresh one and Last-Event-ID. An API key
 * says when it expires in `AuthUser.keyExpiresAt` instead.
 */
function tokenExpiry(authorization: string | undefined): number | undefined {
  const token = bearerTokenOrUndefined(authorization);
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

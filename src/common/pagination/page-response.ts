import { Type, applyDecorators } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { EXACT_COUNT_UP_TO, type Page } from './pagination.query';

/**
 * Documents a list response: an array of `type`, with `X-Total-Count`; a list paged by cursor
 * (`cursor: true`) adds `Link` and `X-Total-Count-Estimated`.
 */
export const ApiPageResponse = (
  type: Type<unknown>,
  description: string,
  options: { cursor?: boolean } = {},
) =>
  applyDecorators(
    ApiOkResponse({
      type: [type],
      description,
      headers: options.cursor
        ? {
            'X-Total-Count': {
              description: `How many items match the filters, ignoring limit, offset and cursor: exact up to ${EXACT_COUNT_UP_TO} (or always, with \`count=exact\`); beyond, the planner's estimate (never below ${EXACT_COUNT_UP_TO + 1}), and then \`X-Total-Count-Estimated\` says so.`,
              required: true,
              schema: { type: 'integer' },
            },
            'X-Total-Count-Estimated': {
              description:
                '`true` when `X-Total-Count` is an estimate rather than a count; absent when it is exact.',
              required: false,
              schema: { type: 'string', enum: ['true'] },
            },
            Link: {
              description:
                'The next page, when there is one: `<URL>; rel="next"`, this request with its `cursor` (and no `offset`). Absent on the last page.',
              required: false,
              schema: {
                type: 'string',
                example: '</api/tasks?limit=50&status=pending&cursor=eyJzIjoi>; rel="next"',
              },
            },
          }
        : {
            'X-Total-Count': {
              description: 'How many items match the filters, ignoring limit and offset',
              required: true,
              schema: { type: 'integer' },
            },
          },
    }),
  );

/** This request's URL with `cursor` in place of any earlier cursor or offset. */
function nextUrl(url: string, cursor: string): string {
  const [path, query = ''] = url.split('?', 2);
  const params = new URLSearchParams(query);
  params.delete('offset');
  params.set('cursor', cursor);
  return `${path}?${params.toString()}`;
}

/**
 * Sends a page as the contract wants it: the items as the body, the total in `X-Total-Count`
 * (flagged when estimated), the next page in `Link`.
 */
export function sendPage<T>(reply: FastifyReply, page: Page<T>): T[] {
  reply.header('X-Total-Count', String(page.total));
  if (page.totalEstimated) reply.header('X-Total-Count-Estimated', 'true');
  if (page.next) reply.header('Link', `<${nextUrl(reply.request.url, page.next)}>; rel="next"`);
  return page.items;
}

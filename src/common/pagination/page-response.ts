import { Type, applyDecorators } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Page } from './pagination.query';

/** Documents a list response: an array of `type`, with `X-Total-Count`. */
export const ApiPageResponse = (type: Type<unknown>, description: string) =>
  applyDecorators(
    ApiOkResponse({
      type: [type],
      description,
      headers: {
        'X-Total-Count': {
          description: 'How many items match the filters, ignoring limit and offset',
          required: true,
          schema: { type: 'integer' },
        },
      },
    }),
  );

/** Sends a page as the contract wants it: the items as the body, the total in `X-Total-Count`. */
export function sendPage<T>(reply: FastifyReply, page: Page<T>): T[] {
  reply.header('X-Total-Count', String(page.total));
  return page.items;
}

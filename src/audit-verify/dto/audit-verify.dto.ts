import { ApiProperty, PickType } from '@nestjs/swagger';
import { ListAuditQuery } from '../../audit/dto/list-audit.query';
import { BROKEN_REASONS, BrokenReason } from '../../audit/audit-entry.repository';

/** `GET /api/audit/verify`: the same `task_id` and `since` as the audit search. */
export class VerifyAuditQuery extends PickType(ListAuditQuery, ['task_id', 'since'] as const) {}

/** `GET /api/audit/heads`: optionally one task's chain, paged like every list. */
export class AuditHeadsQuery extends PickType(ListAuditQuery, [
  'task_id',
  'limit',
  'offset',
] as const) {}

export interface BrokenEntry {
  id: number;
  task_id: number | null;
  reason: BrokenReason;
}

const BROKEN_REASONS_DESCRIPTION =
  '`content_changed`: the entry differs from what was hashed (edited, or forged without the trigger); `entries_missing`: entries of its chain before it were deleted; `prev_hash_mismatch`: it does not follow the entry before it; `comment_changed`: the entry is intact but the comment it vouches for (`commented`) was edited or removed.';

export class AuditVerifyResponse {
  @ApiProperty({
    type: 'integer',
    example: 5120,
    description: 'Entries recomputed (those matching the filters).',
  })
  checked: number;

  @ApiProperty({ example: true, description: 'True when every checked entry is intact.' })
  ok: boolean;

  // Spelled out rather than a `$ref` to BrokenEntry: OpenAPI 3.0 lets `nullable` apply only
  // beside a `type`, and a `$ref` (or `allOf` of one) would make `null` invalid.
  @ApiProperty({
    type: 'object',
    nullable: true,
    additionalProperties: false,
    properties: {
      id: { type: 'integer', example: 1017 },
      task_id: { type: 'integer', nullable: true, example: 42 },
      reason: {
        type: 'string',
        enum: [...BROKEN_REASONS],
        description: BROKEN_REASONS_DESCRIPTION,
      },
    },
    required: ['id', 'task_id', 'reason'],
    description: 'The first entry (lowest id) whose check fails; null when every chain is intact.',
  })
  first_broken: BrokenEntry | null;
}

export class AuditHead {
  @ApiProperty({
    example: 'task:42',
    description: '`task:<id>`, or `worker:<id>` for entries about no task.',
  })
  chain: string;

  @ApiProperty({ type: 'integer', nullable: true, example: 42 })
  task_id: number | null;

  @ApiProperty({ type: String, nullable: true, example: null })
  worker_id: string | null;

  @ApiProperty({ type: 'integer', example: 7, description: 'How many entries the chain has.' })
  chain_seq: number;

  @ApiProperty({ example: '60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752' })
  hash: string;

  @ApiProperty({ type: 'integer', example: 1017, description: 'The id of the newest entry.' })
  entry_id: number;

  @ApiProperty({ format: 'date-time', example: '2026-11-26T20:41:04.575Z' })
  timestamp: Date;
}

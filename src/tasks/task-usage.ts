import { ApiProperty } from '@nestjs/swagger';

/** Usage summed over reports, for one model or all of them. Money is a decimal string, exact. */
export class ModelUsage {
  @ApiProperty({ type: 'integer', minimum: 0, example: 120_000 })
  input_tokens: number;

  @ApiProperty({ type: 'integer', minimum: 0, example: 8_000 })
  output_tokens: number;

  @ApiProperty({
    type: String,
    example: '0.4800',
    description: 'US dollars, as an exact decimal string (never a float).',
  })
  cost_usd: string;
}

/** What the work on a task has cost so far: every usage report, summed. */
export class TaskUsage extends ModelUsage {
  @ApiProperty({
    type: 'object',
    additionalProperties: {
      type: 'object',
      properties: {
        input_tokens: { type: 'integer', minimum: 0 },
        output_tokens: { type: 'integer', minimum: 0 },
        cost_usd: { type: 'string', description: 'US dollars, exact.' },
      },
      required: ['input_tokens', 'output_tokens', 'cost_usd'],
    },
    example: {
      'claude-sonnet-4': { input_tokens: 120_000, output_tokens: 8_000, cost_usd: '0.4800' },
    },
    description: 'The same sums, per model reported.',
  })
  by_model: Record<string, ModelUsage>;
}

/** One usage report: what a unit of agent work consumed. */
export interface UsageReport {
  model: string;
  input_tokens: number;
  output_tokens: number;
  /** US dollars, a decimal string; absent: not known (counts as 0). */
  cost_usd?: string;
}

import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsUrl,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  ARTIFACT_TITLE_MAX_LENGTH,
  ARTIFACT_URL_MAX_LENGTH,
  COMMENT_MAX_LENGTH,
  MAX_ARTIFACTS,
} from '../../common/limits';
import { CursorPaginationQuery, PaginationQuery } from '../../common/pagination/pagination.query';
import { IsOptionalNotNull, IsText } from '../../common/validation/decorators';
import { ARTIFACT_KINDS, ArtifactKind, COMMENT_KINDS, CommentKind } from '../task.enums';
import { Task } from '../task.entity';
import { INBOX_REASONS, InboxReason } from '../task.repository';

/** Text people read: 1 to 10,000 characters, not blank. */
const CommentText = () => IsText({ min: 1, max: COMMENT_MAX_LENGTH, nonBlank: true });

export class CreateCommentDto {
  @ApiProperty({
    minLength: 1,
    maxLength: COMMENT_MAX_LENGTH,
    example: 'The flaky test is the clock one; I pinned the time zone.',
  })
  @CommentText()
  body: string;

  @ApiPropertyOptional({
    enum: COMMENT_KINDS,
    enumName: 'CommentKind',
    default: 'note',
    description:
      "`note` (default), `handoff`, `question`, `answer` or `decision`. An `answer` from anyone but the assignee clears the task's `awaiting_input`.",
  })
  @IsOptionalNotNull()
  @IsIn(COMMENT_KINDS, { message: `kind must be one of ${COMMENT_KINDS.join(', ')}` })
  kind?: CommentKind;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    minimum: 1,
    example: null,
    description: 'A comment of the same task that this one replies to (422 otherwise).',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(Number.MAX_SAFE_INTEGER)
  reply_to?: number | null;
}

/** `GET /api/tasks/{id}/comments`: oldest first, a page at a time by cursor. */
export class ListCommentsQuery extends PickType(CursorPaginationQuery, [
  'limit',
  'cursor',
] as const) {}

export class AskDto {
  @ApiProperty({
    minLength: 1,
    maxLength: COMMENT_MAX_LENGTH,
    example: 'Should the export include archived projects?',
  })
  @CommentText()
  question: string;
}

export class ArtifactInput {
  @ApiProperty({ enum: ARTIFACT_KINDS, enumName: 'ArtifactKind', example: 'pr' })
  @IsIn(ARTIFACT_KINDS, { message: `kind must be one of ${ARTIFACT_KINDS.join(', ')}` })
  kind: ArtifactKind;

  @ApiProperty({
    maxLength: ARTIFACT_URL_MAX_LENGTH,
    example: 'https://github.com/acme/site/pull/7',
    description:
      'An http or https URL. A task holds one artifact per URL: the same URL again replaces it.',
  })
  @IsText({ min: 1, max: ARTIFACT_URL_MAX_LENGTH })
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'url must be an http or https URL' },
  )
  url: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: ARTIFACT_TITLE_MAX_LENGTH,
    example: 'Fix the login redirect',
  })
  @IsOptional()
  @IsText({ max: ARTIFACT_TITLE_MAX_LENGTH })
  title?: string | null;
}

export class RemoveArtifactQuery {
  @ApiProperty({
    maxLength: ARTIFACT_URL_MAX_LENGTH,
    example: 'https://github.com/acme/site/pull/7',
    description: 'The URL of the artifact to remove.',
  })
  @IsText({ min: 1, max: ARTIFACT_URL_MAX_LENGTH })
  url: string;
}

const ApiNote = () =>
  ApiPropertyOptional({
    minLength: 1,
    maxLength: COMMENT_MAX_LENGTH,
    example: 'Migrations are done; the API part is left. Start from src/tasks.',
    description:
      "A hand-off note: recorded as a `handoff` comment in the same transaction, named by the move's audit entry (`comment_id`), and shown on the task as `last_handoff`.",
  });
const Note = () => applyDecorators(IsOptionalNotNull(), CommentText());

/** `release`: an optional hand-off note. */
export class HandoffBody {
  @ApiNote()
  @Note()
  note?: string;
}

/** `review` and `complete`: a hand-off note and the artifacts the work produced. */
export class ResultBody extends HandoffBody {
  @ApiPropertyOptional({
    type: [ArtifactInput],
    maxItems: MAX_ARTIFACTS,
    description:
      'Added to the task in the same transaction, as `POST /api/tasks/{id}/artifacts` would (one `artifact_added` entry each).',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(MAX_ARTIFACTS)
  @ValidateNested({ each: true })
  @Type(() => ArtifactInput)
  artifacts?: ArtifactInput[];
}

/** `GET /api/inbox`: paged by offset, like the other short lists. */
export class InboxQuery extends PaginationQuery {}

export class InboxItem {
  @ApiProperty({ type: Task })
  task: Task;

  @ApiProperty({
    enum: INBOX_REASONS,
    enumName: 'InboxReason',
    example: 'awaiting_input',
    description:
      '`awaiting_input`: someone else asked a question you may answer; `failed`: a task out of attempts where you may `retry` it; `review`: work you may sign off; `assigned`: your own unfinished task.',
  })
  reason: InboxReason;
}

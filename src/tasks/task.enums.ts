/** `failed`: out of attempts, or failed for good; waits for a person to `retry` it. */
export const TASK_STATUSES = [
  'pending',
  'in_progress',
  'review',
  'completed',
  'blocked',
  'failed',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Declared lowest first: the PostgreSQL enum keeps this order, so `ORDER BY priority` is by rank. */
export const TASK_PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export type TaskPriority = (typeof TASK_PRIORITIES)[number];

export const TASK_SORT_FIELDS = ['id', 'created_at', 'updated_at', 'priority', 'due_date'] as const;
export type TaskSortField = (typeof TASK_SORT_FIELDS)[number];
export type TaskSort = TaskSortField | `-${TaskSortField}`;
/** Each sort field, ascending or (with a `-` prefix) descending. */
export const TASK_SORTS = TASK_SORT_FIELDS.flatMap((f) => [f, `-${f}`] as const) as [
  TaskSort,
  ...TaskSort[],
];

/** A tag: lowercase letters, digits and `-_.`, starting with a letter or digit, 1 to 50 long. */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9\-_.]{0,49}$/;
export const MAX_TAGS = 20;

/** What a comment is: `handoff` notes come with moves, `question` with ask, `answer` clears it. */
export const COMMENT_KINDS = ['note', 'handoff', 'question', 'answer', 'decision'] as const;
export type CommentKind = (typeof COMMENT_KINDS)[number];

/** What an artifact is: a pull request, a commit, any link, a file, a log. */
export const ARTIFACT_KINDS = ['pr', 'commit', 'url', 'file', 'log'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

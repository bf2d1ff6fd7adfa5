// How the CLI shows each API object to a human; `--json` bypasses all of this.
import type {
  AnalyticsSummary,
  ApiKey,
  Artifact,
  AuditEntry,
  Comment,
  CreatedApiKey,
  AuditVerification,
  InboxItem,
  Me,
  Project,
  ProjectMember,
  Task,
  Worker,
} from '../client/taskflow-client';
import { details, table, time } from './output';

export function taskTable(tasks: readonly Task[]): string {
  return table(
    ['ID', 'STATUS', 'PRIORITY', 'PROGRESS', 'ASSIGNEE', 'PROJECT', 'TAGS', 'TITLE'],
    tasks.map((t) => [
      t.id,
      t.status,
      t.priority,
      `${t.progress_percent}%`,
      t.assigned_to,
      t.project_slug,
      t.tags.join(','),
      t.title,
    ]),
  );
}

export function taskDetails(task: Task): string {
  return details([
    ['ID', String(task.id)],
    ['Title', task.title],
    ['Status', task.status],
    ['Priority', task.priority],
    ['Progress', `${task.progress_percent}%`],
    ['Assigned to', task.assigned_to],
    ['Project', task.project_slug],
    ['Tags', task.tags.length ? task.tags.join(', ') : null],
    ['Parent', task.parent_id === null ? null : String(task.parent_id)],
    ['Due', task.due_date && time(task.due_date)],
    ['Created', `${time(task.created_at)} by ${task.created_by}`],
    ['Updated', time(task.updated_at)],
    ['Started', task.started_at && time(task.started_at)],
    ['Completed', task.completed_at && time(task.completed_at)],
    ['Blocked by', task.blocked_by.length ? task.blocked_by.join(', ') : null],
    ['Awaiting input', task.awaiting_input ? 'yes: a question waits for an answer' : null],
    ['Attempts', task.attempts > 0 ? `${task.attempts} of ${task.max_attempts}` : null],
    ['Last error', task.attempts > 0 ? task.last_error : null],
    ['Not before', task.not_before && time(task.not_before)],
    [
      'Usage',
      task.usage.input_tokens + task.usage.output_tokens > 0 || task.usage.cost_usd !== '0'
        ? `${task.usage.input_tokens} in, ${task.usage.output_tokens} out, $${task.usage.cost_usd}`
        : null,
    ],
    [
      'Budget',
      task.budget_tokens !== null || task.budget_usd !== null
        ? [
            task.budget_tokens !== null ? `${task.budget_tokens} tokens` : null,
            task.budget_usd !== null ? `$${task.budget_usd}` : null,
          ]
            .filter(Boolean)
            .join(', ')
        : null,
    ],
    ['Version', String(task.version)],
    ['Description', task.description],
    [
      'Last hand-off',
      task.last_handoff &&
        `${task.last_handoff.author_id}, ${time(task.last_handoff.created_at)}:\n${task.last_handoff.body}`,
    ],
    ['Artifacts', task.artifacts.length ? task.artifacts.map(artifactLine).join('\n') : null],
  ]);
}

/** `pr  https://…  Fix the login redirect` */
function artifactLine(artifact: Artifact): string {
  return [artifact.kind, artifact.url, artifact.title].filter(Boolean).join('  ');
}

export function commentTable(comments: readonly Comment[]): string {
  return table(
    ['ID', 'TIME', 'AUTHOR', 'TYPE', 'KIND', 'REPLY TO', 'BODY'],
    comments.map((c) => [
      c.id,
      time(c.created_at),
      c.author_id,
      c.author_type,
      c.kind,
      c.reply_to,
      c.body,
    ]),
  );
}

export function commentDetails(comment: Comment): string {
  return details([
    ['Comment', String(comment.id)],
    ['Task', String(comment.task_id)],
    ['Kind', comment.kind],
    ['Author', `${comment.author_id} (${comment.author_type})`],
    ['Reply to', comment.reply_to === null ? null : String(comment.reply_to)],
    ['Created', time(comment.created_at)],
    ['Body', comment.body],
  ]);
}

export function inboxTable(items: readonly InboxItem[]): string {
  return table(
    ['REASON', 'ID', 'STATUS', 'PRIORITY', 'ASSIGNEE', 'PROJECT', 'TITLE'],
    items.map(({ reason, task: t }) => [
      reason,
      t.id,
      t.status,
      t.priority,
      t.assigned_to,
      t.project_slug,
      t.title,
    ]),
  );
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function isChange(value: unknown): value is { from: unknown; to: unknown } {
  return typeof value === 'object' && value !== null && 'from' in value && 'to' in value;
}

/** `status: pending → in_progress`, `percent: 40, note: tests pass`, … */
function contextSummary(context: AuditEntry['context']): string {
  return Object.entries(context ?? {})
    .filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) =>
      isChange(value)
        ? `${key}: ${show(value.from)} → ${show(value.to)}`
        : `${key}: ${show(value)}`,
    )
    .join(', ');
}

export function auditTable(entries: readonly AuditEntry[]): string {
  return table(
    ['ID', 'TIME', 'TASK', 'ACTOR', 'TYPE', 'ACTION', 'DETAILS'],
    entries.map((e) => [
      e.id,
      time(e.timestamp),
      e.task_id,
      e.actor_id,
      e.actor_type,
      e.action,
      contextSummary(e.context),
    ]),
  );
}

const seconds = (value: number | null): string => (value === null ? '-' : `${value}s`);

export function statsTable(summary: AnalyticsSummary): string {
  const heading = `${time(summary.since)} to ${time(summary.until)}${summary.project ? ` in ${summary.project}` : ''}`;
  if (summary.groups.length === 0) return `${heading}: nothing done`;
  const rows = summary.groups.map((g) => [
    g.key,
    g.actor_type,
    g.completed,
    seconds(g.cycle_time_p50_seconds),
    seconds(g.cycle_time_p90_seconds),
    g.review_rejections,
    g.failures,
    g.attempts_per_completion === null ? '-' : g.attempts_per_completion.toFixed(2),
    g.input_tokens,
    g.output_tokens,
    `$${g.cost_usd}`,
  ]);
  const headers = [summary.group_by === 'worker' ? 'WORKER' : 'GROUP', 'TYPE', 'DONE', 'P50'];
  return `${heading}\n${table(
    [...headers, 'P90', 'REJECTED', 'FAILED', 'ATTEMPTS/DONE', 'IN', 'OUT', 'COST'],
    rows,
  )}`;
}

const BREAK_MEANINGS: Record<string, string> = {
  content_changed: 'its content differs from what was hashed when it was written',
  entries_missing: 'entries of its chain before it are missing',
  prev_hash_mismatch: 'it does not follow the entry before it in its chain',
  comment_changed: 'the comment it vouches for was edited or removed',
};

export function auditVerification(result: AuditVerification): string {
  if (result.ok) return `intact: ${result.checked} entries checked`;
  const broken = result.first_broken!;
  const task = broken.task_id === null ? '' : ` (task ${broken.task_id})`;
  return `BROKEN: ${result.checked} entries checked; first broken entry ${broken.id}${task}: ${BREAK_MEANINGS[broken.reason]}`;
}

export function projectTable(projects: readonly Project[]): string {
  return table(
    ['SLUG', 'VISIBILITY', 'OWNER', 'NAME'],
    projects.map((p) => [p.slug, p.visibility, p.owner, p.name]),
  );
}

export function projectDetails(project: Project): string {
  return details([
    ['Slug', project.slug],
    ['Name', project.name],
    ['Visibility', project.visibility],
    ['Review policy', project.review_policy],
    ['Owner', project.owner],
    ['Created', time(project.created_at)],
    ['Updated', time(project.updated_at)],
    ['Description', project.description],
  ]);
}

export function memberTable(members: readonly ProjectMember[]): string {
  return table(
    ['WORKER', 'ROLE', 'ADDED'],
    members.map((m) => [m.worker_id, m.role, time(m.added_at)]),
  );
}

export function workerTable(workers: readonly Worker[]): string {
  return table(
    ['ID', 'TYPE', 'NAME', 'CAPABILITIES', 'CREATED'],
    workers.map((w) => [w.id, w.type, w.name, w.capabilities.join(', '), time(w.created_at)]),
  );
}

export function meDetails(me: Me): string {
  return details([
    ['ID', me.id],
    ['Email', me.email],
    ['Role', me.role],
    ['Admin', me.is_admin ? 'yes' : 'no'],
    ['Worker type', me.worker_type],
  ]);
}

export function keyTable(keys: readonly ApiKey[]): string {
  return table(
    ['ID', 'PREFIX', 'NAME', 'SCOPES', 'PROJECTS', 'EXPIRES', 'LAST USED'],
    keys.map((k) => [
      k.id,
      k.prefix,
      k.name,
      k.scopes.join(','),
      k.projects?.join(',') ?? 'all',
      time(k.expires_at),
      k.last_used_at === null ? 'never' : time(k.last_used_at),
    ]),
  );
}

/** The one time a key is shown: the key itself, then how to use it. */
export function createdKeyDetails(key: CreatedApiKey): string {
  return [
    keyTable([key]),
    '',
    `Key (shown once, store it now): ${key.key ?? '(not shown: this was a replayed request)'}`,
    `Use it as: TASKFLOW_API_KEY=<key> taskflow …  or  Authorization: Bearer <key>`,
  ].join('\n');
}

import type { Client } from 'pg';
import { prng } from '../../bench/prng';
import type { Mutation, SoakActor } from './soak';

/** Mints a real token for an actor (the test's identity provider signs it). */
export type Mint = (spec: { id: string; role?: string }) => Promise<string>;

export interface Board {
  actors: SoakActor[];
  taskIds: number[];
  /** The `created` entry each board task must have (its author is a member of `soak`). */
  created: Mutation[];
}

/**
 * The soak's projects: `soak` holds the board, the soak's own creates go to the other three.
 * Membership never changes during a run.
 */
export const SOAK_PROJECTS = {
  soak: 'internal',
  alpha: 'internal',
  beta: 'private',
  gamma: 'internal',
} as const;
type Slug = keyof typeof SOAK_PROJECTS;
const SLUGS = Object.keys(SOAK_PROJECTS) as Slug[];

/**
 * Who is what where, drawn from `seed`: every agent is a member of a random subset of the
 * projects (possibly none); the people who are not admins are members of every project, except
 * every fourth, a viewer of `beta` (reads its tasks, may not change them). The first admin
 * creates the projects and owns them; the other admin is in none (admins need no membership).
 */
function memberships(actors: SoakActor[], seed: number): [Slug, string, 'member' | 'viewer'][] {
  const random = prng(seed ^ 0x5eed);
  const rows: [Slug, string, 'member' | 'viewer'][] = [];
  actors.forEach((actor, i) => {
    if (actor.kind === 'agent') {
      for (const slug of SLUGS) if (random() < 0.5) rows.push([slug, actor.id, 'member']);
    } else if (i >= 2) {
      for (const slug of SLUGS) {
        rows.push([slug, actor.id, slug === 'beta' && i % 4 === 0 ? 'viewer' : 'member']);
      }
    }
  });
  return rows;
}

async function post(baseUrl: string, token: string, path: string, body: object): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * The soak's cast and board: `humans` people (the first two are admins) and `agents` agents that
 * an admin registered, all with real tokens; the projects of `SOAK_PROJECTS` with their members
 * (see `memberships`, drawn from `seed`); `tasks` tasks of project `soak` created through the API
 * by the actors who may (admins and the members of `soak`), in turn.
 */
export async function setUpBoard(
  mint: Mint,
  baseUrl: string,
  counts: { humans: number; agents: number; tasks: number; seed: number },
): Promise<Board> {
  const actors: SoakActor[] = [];
  for (let i = 0; i < counts.humans; i++) {
    const id = `human-${i}`;
    actors.push({ id, token: await mint({ id, role: i < 2 ? 'admin' : 'user' }), kind: 'human' });
  }
  const admin = actors[0];
  for (let i = 0; i < counts.agents; i++) {
    const id = `agent-${i}`;
    const res = await fetch(`${baseUrl}/api/workers`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ id, name: `Agent ${i}`, type: 'agent' }),
    });
    if (res.status !== 201) throw new Error(`registering ${id}: ${res.status}`);
    actors.push({ id, token: await mint({ id }), kind: 'agent' });
  }
  for (const [slug, visibility] of Object.entries(SOAK_PROJECTS)) {
    await post(baseUrl, admin.token, '/api/projects', { slug, name: slug, visibility });
  }
  // One at a time: entries about the same person (in several projects) share its audit chain.
  const rows = memberships(actors, counts.seed);
  for (const [slug, workerId, role] of rows) {
    await post(baseUrl, admin.token, `/api/projects/${slug}/members`, {
      worker_id: workerId,
      role,
    });
  }
  const soakMembers = new Set(
    rows.filter(([s, , r]) => s === 'soak' && r === 'member').map(([, w]) => w),
  );
  const authors = actors.filter((a, i) => i < 2 || soakMembers.has(a.id));
  const created: Mutation[] = [];
  for (let batch = 0; batch < counts.tasks; batch += 25) {
    created.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(25, counts.tasks - batch) }, async (_, i) => {
          const author = authors[(batch + i) % authors.length];
          const task = await post(baseUrl, author.token, '/api/tasks', {
            title: `board ${batch + i}`,
            project_slug: 'soak',
          });
          return { taskId: task.id as number, action: 'created', actorId: author.id };
        }),
      )),
    );
  }
  return { actors, taskIds: created.map((m) => m.taskId), created };
}

export async function countAudit(db: Client, sinceAuditId: number): Promise<number> {
  return Number(
    (
      await db.query(
        'SELECT count(*) AS n FROM audit_entries WHERE id > $1 AND task_id IS NOT NULL',
        [sinceAuditId],
      )
    ).rows[0].n,
  );
}

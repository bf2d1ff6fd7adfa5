import type { Client } from 'pg';
import type { SoakActor } from './soak';

/** Mints a real token for an actor (the test's identity provider signs it). */
export type Mint = (spec: { id: string; role?: string }) => Promise<string>;

export interface Board {
  actors: SoakActor[];
  taskIds: number[];
}

/**
 * The soak's cast and board: `humans` people (the first two are admins) and `agents` agents that
 * an admin registered, all with real tokens; `tasks` tasks created through the API.
 */
export async function setUpBoard(
  mint: Mint,
  baseUrl: string,
  counts: { humans: number; agents: number; tasks: number },
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
  const taskIds: number[] = [];
  for (let batch = 0; batch < counts.tasks; batch += 25) {
    const created = await Promise.all(
      Array.from({ length: Math.min(25, counts.tasks - batch) }, async (_, i) => {
        const author = actors[(batch + i) % actors.length];
        const res = await fetch(`${baseUrl}/api/tasks`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${author.token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: `board ${batch + i}`, project_slug: 'soak' }),
        });
        if (res.status !== 201) throw new Error(`creating the board: ${res.status}`);
        return ((await res.json()) as { id: number }).id;
      }),
    );
    taskIds.push(...created);
  }
  return { actors, taskIds };
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

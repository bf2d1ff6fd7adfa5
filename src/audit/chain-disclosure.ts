import type { Viewer } from '../access/project-access';
import type { AuditEntry } from './audit-entry.entity';

/**
 * An entry's place in its hash chain, as `viewer` may see it. A task's chain is read whole or
 * not at all (the audit reads judge every entry of a task by one project), so its positions
 * tell a reader nothing new. The chain of a person's entries about no task mixes projects:
 * there `chain_seq` and `prev_hash` would count, or point at, entries about private projects
 * the reader may not see, so only admins (who see them all, and verify the chains) get them.
 * The entry's own `hash` stays: it says nothing about any other entry.
 */
export function chainShownTo(viewer: Viewer, entry: AuditEntry): AuditEntry {
  if (viewer.isAdmin || entry.task_id !== null) return entry;
  return { ...entry, chain_seq: null, prev_hash: null };
}

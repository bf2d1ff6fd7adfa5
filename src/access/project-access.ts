/** Who sees a project's tasks: `internal`, every authenticated user; `private`, its members. */
export const PROJECT_VISIBILITIES = ['internal', 'private'] as const;
export type ProjectVisibility = (typeof PROJECT_VISIBILITIES)[number];

/**
 * Who signs off work in review: `other`, anyone but the assignee; `human`, for a task held by an
 * agent, a person (and the agent cannot complete it without review). See docs/lifecycle.md.
 */
export const REVIEW_POLICIES = ['other', 'human'] as const;
export type ReviewPolicy = (typeof REVIEW_POLICIES)[number];

/** A member's role: owners manage members, members write, viewers only read. */
export const PROJECT_ROLES = ['owner', 'member', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** Roles that may change a project's tasks (every move, edit, dependency and creation). */
export const WRITER_ROLES: readonly ProjectRole[] = ['owner', 'member'];

/** Who is asking, as the visibility rule needs it. */
export interface Viewer {
  id: string;
  isAdmin: boolean;
  /**
   * Set for a caller acting with an API key limited to some projects: it acts as if it were a
   * member of those only (where its worker is one), and sees nothing else, the shared board
   * included. Absent or null: no such limit.
   */
  projects?: readonly string[] | null;
}

/** The viewer's project allow-list as a query parameter (`varchar[]`, or null for none). */
export const allowedProjectsOf = (viewer: Viewer): readonly string[] | null =>
  viewer.projects ?? null;

/** Whether a project allow-list lets the viewer near project `slug` (null: the shared board). */
export function withinAllowedProjects(viewer: Viewer, slug: string | null): boolean {
  return !viewer.projects || (slug !== null && viewer.projects.includes(slug));
}

/** Who sees a project's tasks: `internal`, every authenticated user; `private`, its members. */
export const PROJECT_VISIBILITIES = ['internal', 'private'] as const;
export type ProjectVisibility = (typeof PROJECT_VISIBILITIES)[number];

/** A member's role: owners manage members, members write, viewers only read. */
export const PROJECT_ROLES = ['owner', 'member', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** Roles that may change a project's tasks (every move, edit, dependency and creation). */
export const WRITER_ROLES: readonly ProjectRole[] = ['owner', 'member'];

/** Who is asking, as the visibility rule needs it. */
export interface Viewer {
  id: string;
  isAdmin: boolean;
}

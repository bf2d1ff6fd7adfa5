/** The caller, as the verified JWT describes it. */
export interface AuthUser {
  /** The JWT `sub`: the user's (or agent's) id, and the worker id. */
  id: string;
  email: string | null;
  /** As the token carries it, e.g. `"user"` or `"admin,user"` (Better Auth's admin plugin). */
  role: string;
  isAdmin: boolean;
}

/** A user is an admin when any of its comma-separated roles is `admin`. */
export function isAdminRole(role: string): boolean {
  return role
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .includes('admin');
}

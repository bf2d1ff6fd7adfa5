/** The caller, as the verified JWT describes it. */
export interface AuthUser {
  /** The JWT `sub`: the user's (or agent's) id, and the worker id. */
  id: string;
  email: string | null;
  /** As the token carries it, e.g. `"user"` or `"admin,user"` (Better Auth's admin plugin). */
  role: string;
  isAdmin: boolean;
  /** Set when the caller authenticated with an API key: the key's id (never the key). */
  keyId?: string;
  /**
   * With an API key: when it expires (ms since the epoch). What a JWT's `exp` says of the token
   * (a stream ends then), a key's `expires_at` says of the key.
   */
  keyExpiresAt?: number;
  /** With an API key: what it may do. A key without `write` may only GET and HEAD. */
  scopes?: readonly ApiKeyScope[];
  /** With an API key limited to projects: those (`Viewer.projects`). */
  projects?: readonly string[] | null;
}

export const API_KEY_SCOPES = ['read', 'write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A user is an admin when any of its comma-separated roles is `admin`. */
export function isAdminRole(role: string): boolean {
  return role
    .split(',')
    .map((r) => r.trim().toLowerCase())
    .includes('admin');
}

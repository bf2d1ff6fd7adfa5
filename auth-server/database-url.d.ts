/** Types for database-url.js (plain CommonJS, shared by the auth server and scripts/token.ts). */
export declare const AUTH_DATABASE_NAME: string;
export declare const DEFAULT_DATABASE_URL: string;
export declare function authDatabaseUrl(env: Record<string, string | undefined>): string;

// @ts-check
'use strict';

/**
 * The one rule for where the auth server keeps its tables, shared by auth-server/config.mjs (ESM)
 * and scripts/token.ts (CommonJS TypeScript, through database-url.d.ts). It is CommonJS so both
 * can load it: `.js` is CommonJS in this repository (package.json has no "type").
 */

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/taskflow';
const AUTH_DATABASE_NAME = 'taskflow_auth';

/**
 * AUTH_DATABASE_URL when set; otherwise DATABASE_URL (default
 * postgresql://postgres@127.0.0.1:5432/taskflow) with its database name replaced by
 * `taskflow_auth`: same server and credentials as the API, its own database.
 *
 * @param {Record<string, string | undefined>} env usually process.env
 * @returns {string}
 */
function authDatabaseUrl(env) {
  if (env.AUTH_DATABASE_URL) return env.AUTH_DATABASE_URL;
  const url = new URL(env.DATABASE_URL || DEFAULT_DATABASE_URL);
  url.pathname = `/${AUTH_DATABASE_NAME}`;
  return url.toString();
}

module.exports = { authDatabaseUrl, AUTH_DATABASE_NAME, DEFAULT_DATABASE_URL };

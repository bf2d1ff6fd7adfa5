/**
 * Which status each one can move to, for tool descriptions. openapi.json does not carry the move
 * table, so it is written out here; lifecycle.spec.ts fails when it differs from the API's.
 */
export const STATE_MACHINE =
  'pending → in_progress|blocked; in_progress → review|completed|blocked|pending|failed; ' +
  'review → completed|in_progress|blocked; completed → in_progress; blocked → in_progress|pending; ' +
  'failed → pending';

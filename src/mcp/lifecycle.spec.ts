import { TASK_TRANSITIONS } from '../tasks/task-moves';
import { STATE_MACHINE } from './lifecycle';

describe('STATE_MACHINE', () => {
  it("is the API's move table", () => {
    const table = Object.entries(TASK_TRANSITIONS)
      .map(([from, to]) => `${from} → ${to.join('|')}`)
      .join('; ');
    expect(STATE_MACHINE).toBe(table);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TOOL_GROUPS } from './tool-groups';
import { documentedSizes, listedTools, toolSetSizes } from './tool-sizes';

describe('MCP tool group sizes', () => {
  it("docs/mcp.md's table is the tools' real definition sizes (npm run mcp:sizes -- --write)", async () => {
    const markdown = readFileSync(join(__dirname, '..', '..', 'docs', 'mcp.md'), 'utf8');
    expect(documentedSizes(markdown)).toEqual(await toolSetSizes());
  });

  it('puts every tool in exactly one group', async () => {
    const byGroup = await Promise.all(ALL_TOOL_GROUPS.map((group) => listedTools([group])));
    const names = byGroup.flat().map((tool) => tool.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual((await listedTools(ALL_TOOL_GROUPS)).map((t) => t.name).sort());
  });
});

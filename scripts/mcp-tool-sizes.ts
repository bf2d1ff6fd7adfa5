import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { sizeTable, toolSetSizes, withSizeTable } from '../src/mcp/tool-sizes';

/**
 * `npm run mcp:sizes` prints what each MCP tool group's definitions cost an agent's context;
 * `-- --write` puts the table into docs/mcp.md. src/mcp/tool-sizes.spec.ts fails when the
 * documented table differs from the tools' real definitions.
 */
const DOC = join(__dirname, '..', 'docs', 'mcp.md');

async function main(): Promise<void> {
  const sizes = await toolSetSizes();
  if (!process.argv.includes('--write')) {
    process.stdout.write(`${sizeTable(sizes)}\n`);
    return;
  }
  const options = { ...(await resolveConfig(DOC)), filepath: DOC };
  writeFileSync(DOC, await format(withSizeTable(readFileSync(DOC, 'utf8'), sizes), options));
  process.stdout.write(`docs/mcp.md: tool sizes written\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

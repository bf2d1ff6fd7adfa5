import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The frontend's side of the contract: clients generated from the committed openapi.json by
 * @hey-api/openapi-ts and orval (zod), into a temporary folder, then used as a frontend would.
 */
const ROOT = join(__dirname, '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);
const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe' });

describe('Generated frontend clients (hey-api, orval)', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'taskflow-consumers-'));
    // The generated code imports zod; the consumer's tsc needs TypeScript's DOM types only.
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const document = join(ROOT, 'openapi.json');
    run(
      bin('openapi-ts'),
      [
        '-i',
        document,
        '-o',
        join(dir, 'hey-api'),
        '-c',
        '@hey-api/client-fetch',
        '-s',
        '--no-log-file',
      ],
      dir,
    );
    writeFileSync(
      join(dir, 'orval.config.cjs'),
      `module.exports = { taskflow: { input: { target: ${JSON.stringify(document)} }, output: { target: './orval/taskflow.zod.ts', client: 'zod', mode: 'single' } } };`,
    );
    run(bin('orval'), ['--config', join(dir, 'orval.config.cjs')], dir);
    copyFileSync(join(__dirname, 'consumers', 'frontend.ts'), join(dir, 'frontend.ts'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          module: 'commonjs',
          moduleResolution: 'node10',
          types: [],
          skipLibCheck: true,
          outDir: 'dist',
        },
        files: ['frontend.ts'],
      }),
    );
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('type-checks the committed consumer file with tsc --strict', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], dir);
    } catch (error) {
      throw new Error(
        `tsc --strict failed on test/consumers/frontend.ts:\n${(error as { stdout: string }).stdout}`,
      );
    }
  }, 120_000);

  it("keeps orval's zod schema of the task PATCH body free of defaults: {title} stays {title}", () => {
    const check = `
      const { tasksUpdateBody } = require('./dist/orval/taskflow.zod.js');
      process.stdout.write(JSON.stringify(tasksUpdateBody.parse({ title: 'x' })));`;
    const parsed = JSON.parse(run(process.execPath, ['-e', check], dir)) as unknown;
    expect(parsed).toEqual({ title: 'x' });
  });
});

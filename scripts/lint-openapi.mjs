// Lints the committed openapi.json with the tools a frontend team runs on it: Redocly CLI
// (`recommended`, redocly.yaml) and Spectral (`spectral:oas` plus house rules, .spectral.yaml).
// Part of `npm run check`: any error or warning from either fails it. Exceptions live in those
// committed configs (and .redocly.lint-ignore.yaml), each with its reason.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  const start = result.stdout.search(/[[{]/);
  if (start === -1) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error(`${command} printed no JSON report (exit ${result.status})`);
  }
  // Spectral appends a plain-text line after its JSON array.
  const text = result.stdout.slice(start);
  const end = text.lastIndexOf(text[0] === '[' ? ']' : '}');
  return JSON.parse(text.slice(0, end + 1));
}

const redocly = run(bin('redocly'), ['lint', 'openapi.json', '--format=json']);
const redoclyCounts = { errors: redocly.totals.errors, warnings: redocly.totals.warnings };
for (const p of redocly.problems) {
  console.error(
    `redocly ${p.severity} ${p.ruleId}: ${p.message} (${p.location?.[0]?.pointer ?? ''})`,
  );
}

const spectral = run(bin('spectral'), ['lint', 'openapi.json', '--format', 'json', '--quiet']);
// Spectral severities: 0 error, 1 warning, 2 info, 3 hint; all of them count here.
const spectralCounts = {
  errors: spectral.filter((p) => p.severity === 0).length,
  warnings: spectral.filter((p) => p.severity > 0).length,
};
for (const p of spectral) console.error(`spectral ${p.code}: ${p.message} (${p.path.join('.')})`);

console.log(
  `openapi.json: Redocly recommended ${redoclyCounts.errors} errors, ${redoclyCounts.warnings} warnings; ` +
    `Spectral spectral:oas + house rules ${spectralCounts.errors} errors, ${spectralCounts.warnings} warnings`,
);
const total =
  redoclyCounts.errors + redoclyCounts.warnings + spectralCounts.errors + spectralCounts.warnings;
process.exit(total === 0 ? 0 : 1);

import { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  OVERHEAD_TARGETS_US,
  OVERHEAD_WORKLOADS,
  OverheadWorkload,
  WORKLOADS,
  percentile,
} from './protocol';
import { formatMarkdown, overheadMargin, overheadsOf, type Results } from './report';

/**
 * `npm run bench:spread -- --runs a.json,b.json,c.json [--reference x.json,y.json,z.json]`
 *
 * One run's overhead moves by ±10–30 µs on a shared two-core machine, so a claim about it rests
 * on several. This adds to `bench/results.md` (between the markers below, replaced on every call)
 * the overhead of each short run given (`npm run bench -- --workloads 1,2,4 --skip-growth
 * --duration 8 --rounds 2 --out bench/out/<name>`) and their median. With `--reference`, the
 * results of the same command at the reference commit on this machine, the targets are half of
 * the reference's medians here, as well as the development VM's (`OVERHEAD_TARGETS_US`).
 */

const BEGIN = '<!-- spread: written by npm run bench:spread -->';
const END = '<!-- /spread -->';

interface Summary {
  file: string;
  commit: string;
  dirty: boolean;
  overheads: Partial<Record<OverheadWorkload, number>>;
}

/** The overhead per workload of one results file, from its runs (older files lack `overheads`). */
function summarise(file: string): Summary {
  const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
  const measured = overheadsOf(results.runs);
  const overheads: Summary['overheads'] = {};
  for (const w of OVERHEAD_WORKLOADS) overheads[w] = measured[w]?.overhead;
  return {
    file,
    commit: results.environment.gitCommit.slice(0, 7),
    dirty: results.environment.gitDirty,
    overheads,
  };
}

function medians(summaries: Summary[]): Partial<Record<OverheadWorkload, number>> {
  const out: Partial<Record<OverheadWorkload, number>> = {};
  for (const w of OVERHEAD_WORKLOADS) {
    const values = summaries
      .map((s) => s.overheads[w])
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    if (values.length > 0) out[w] = percentile(values, 50);
  }
  return out;
}

const cell = (value: number | undefined) => (value === undefined ? '–' : String(value));
const verdict = (value: number | undefined, max: number) =>
  value === undefined ? 'not measured' : overheadMargin(value, max);

function section(runs: Summary[], reference: Summary[]): string {
  const median = medians(runs);
  const out = [BEGIN, '', '## Spread: the overhead in several short runs', ''];
  out.push(
    'Server CPU µs per request, TaskFlow − baseline, in separate runs of `npm run bench --',
    '--workloads 1,2,4 --skip-growth --duration 8 --rounds 2` (`npm run bench:spread` wrote this).',
    '',
    '| run | commit | get | list | progress |',
    '| --- | --- | --: | --: | --: |',
  );
  for (const run of runs) {
    out.push(
      `| \`${run.file}\` | \`${run.commit}\`${run.dirty ? ' (uncommitted changes)' : ''} | ${OVERHEAD_WORKLOADS.map((w) => cell(run.overheads[w])).join(' | ')} |`,
    );
  }
  out.push(
    `| **median** | | **${OVERHEAD_WORKLOADS.map((w) => cell(median[w])).join('** | **')}** |`,
    '',
  );
  const targets: { name: string; max: Record<OverheadWorkload, number> }[] = [
    { name: 'the development VM (`OVERHEAD_TARGETS_US`)', max: OVERHEAD_TARGETS_US },
  ];
  if (reference.length > 0) {
    const ref = medians(reference);
    const commits = [...new Set(reference.map((r) => r.commit))].join(', ');
    out.push(
      `The reference, \`${commits}\`, measured the same way on this machine: ${reference
        .map((r) => `${OVERHEAD_WORKLOADS.map((w) => cell(r.overheads[w])).join(' / ')}`)
        .join(
          '; ',
        )} (get / list / progress), medians ${OVERHEAD_WORKLOADS.map((w) => cell(ref[w])).join(' / ')}.`,
      '',
    );
    if (OVERHEAD_WORKLOADS.every((w) => ref[w] !== undefined)) {
      targets.push({
        name: 'this machine (half the reference)',
        max: Object.fromEntries(
          OVERHEAD_WORKLOADS.map((w) => [w, Math.floor(ref[w]! / 2)]),
        ) as Record<OverheadWorkload, number>,
      });
    }
  }
  out.push('| median against the targets of | workload | median | target | margin |');
  out.push('| --- | --- | --: | --: | --- |');
  for (const { name, max } of targets) {
    for (const w of OVERHEAD_WORKLOADS) {
      out.push(
        `| ${name} | ${WORKLOADS[w].n}. ${w} | ${cell(median[w])} | ≤ ${max[w]} | ${verdict(median[w], max[w])} |`,
      );
    }
  }
  out.push('', END);
  return out.join('\n');
}

async function main(): Promise<void> {
  const program = new Command('bench:spread')
    .requiredOption('--runs <files>', 'results JSON files of the short runs, comma-separated')
    .option('--reference <files>', 'results JSON files of the reference commit, comma-separated')
    .option('--results <file>', 'the results page to add the section to', 'bench/results.md')
    .parse();
  const o = program.opts<{ runs: string; reference?: string; results: string }>();
  const list = (value?: string) => (value ? value.split(',').filter(Boolean) : []);
  const text = section(list(o.runs).map(summarise), list(o.reference).map(summarise));
  const page = readFileSync(o.results, 'utf8');
  const start = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  let updated: string;
  if (start !== -1 && end > start) {
    updated = page.slice(0, start) + text + page.slice(end + END.length);
  } else {
    // Right after the headline's table: the first "## " heading after it.
    const next = page.indexOf('\n## ', page.indexOf('## Headline') + 1);
    updated =
      next === -1
        ? `${page.trimEnd()}\n\n${text}\n`
        : `${page.slice(0, next + 1)}${text}\n\n${page.slice(next + 1)}`;
  }
  writeFileSync(o.results, await formatMarkdown(updated, o.results));
  console.log(`${o.results}: spread of ${list(o.runs).length} runs written`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

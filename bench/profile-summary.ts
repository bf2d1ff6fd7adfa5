import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and says where the time went: self time by
 * function and by package (node_modules/<pkg>, TaskFlow's own src/<dir>, node internals), by
 * package with node's internals and native code (socket writes, …) charged to the package that
 * called them, and inclusive time by package (any frame of the package on the stack; this one
 * overstates middleware that calls the rest of the chain from inside). Restricted to a time window
 * (the measured phase of a workload) and divided by the requests served in it, it gives the CPU
 * cost per request of each part.
 *
 *   node dist/bench/profile-summary.js bench/out/taskflow-list.cpuprofile [--requests 123456]
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  ms: number;
  share: number;
  usPerRequest?: number;
}

export interface ProfileSummary {
  file: string;
  windowMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  requests?: number;
  busyUsPerRequest?: number;
  topFunctions: ProfileRow[];
  /** Node internals and native code charged to the nearest package up the stack that called them. */
  attributedByPackage: ProfileRow[];
  selfByPackage: ProfileRow[];
  inclusiveByPackage: ProfileRow[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Which package (or part of TaskFlow, or of node) a frame belongs to. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (SPECIAL.has(functionName)) return functionName;
  if (!url) return '(native)';
  if (url.startsWith('node:')) {
    const rest = url.slice('node:'.length).replace(/^internal\//, '');
    return `node:${rest.split('/')[0]}`;
  }
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const parts = file.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  // The last src/, bench/ or scripts/ of the path: the bench runs a copy of dist/ in bench/out/.
  const src = /.*\/(src|bench|scripts)\/(.*)$/.exec(file);
  if (src) {
    return `taskflow ${src[1]}/${src[2].split('/')[0]}`;
  }
  return path.basename(file);
}

function frameName(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  const file = frame.url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  const short =
    nm !== -1
      ? file.slice(nm + '/node_modules/'.length)
      : file.replace(/^.*\/(dist\/)?(?=(src|bench|scripts)\/)/, '');
  return `${name} ${short}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(
  file: string,
  options: {
    fromUs?: number;
    toUs?: number;
    /** Several windows (the measured rounds); overrides fromUs/toUs. */
    windowsUs?: [number, number][];
    requests?: number;
    top?: number;
  } = {},
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);

  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  let windowUs = 0;
  const windows = options.windowsUs ?? [[options.fromUs ?? -Infinity, options.toUs ?? Infinity]];
  const inWindow = (time: number) => windows.some(([from, to]) => time >= from && time <= to);
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    // A sample stands for the time until the next one.
    const duration = i + 1 < profile.timeDeltas.length ? profile.timeDeltas[i + 1] : 0;
    if (duration <= 0 || !inWindow(t)) continue;
    windowUs += duration;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + duration);
  }

  const fnUs = new Map<string, number>();
  const pkgSelfUs = new Map<string, number>();
  const pkgInclUs = new Map<string, number>();
  const pkgAttrUs = new Map<string, number>();
  let idleUs = 0;
  let gcUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const pkg = packageOf(node.callFrame);
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    if (node.callFrame.functionName === '(garbage collector)') gcUs += us;
    const name = frameName(node.callFrame);
    fnUs.set(name, (fnUs.get(name) ?? 0) + us);
    pkgSelfUs.set(pkg, (pkgSelfUs.get(pkg) ?? 0) + us);
    let charged = SPECIAL.has(node.callFrame.functionName) ? pkg : undefined;
    for (let cur: number | undefined = id; !charged && cur !== undefined; cur = parent.get(cur)) {
      const p = packageOf(byId.get(cur)!.callFrame);
      if (!p.startsWith('node:') && !SPECIAL.has(p) && p !== '(native)') charged = p;
    }
    charged ??= 'node internals (no JS caller: HTTP parsing, socket events…)';
    pkgAttrUs.set(charged, (pkgAttrUs.get(charged) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const p = packageOf(byId.get(cur)!.callFrame);
      if (p === '(root)' || seen.has(p)) continue;
      seen.add(p);
      pkgInclUs.set(p, (pkgInclUs.get(p) ?? 0) + us);
    }
  }

  const busyUs = windowUs - idleUs;
  const requests = options.requests;
  const rows = (map: Map<string, number>, top: number): ProfileRow[] =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 100) / 10,
        share: busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0,
        usPerRequest: requests ? Math.round((us / requests) * 10) / 10 : undefined,
      }));
  const top = options.top ?? 25;
  return {
    file,
    windowMs: Math.round(windowUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    gcMs: Math.round(gcUs / 1000),
    requests,
    busyUsPerRequest: requests ? Math.round((busyUs / requests) * 10) / 10 : undefined,
    topFunctions: rows(fnUs, top),
    attributedByPackage: rows(pkgAttrUs, top),
    selfByPackage: rows(pkgSelfUs, top),
    inclusiveByPackage: rows(pkgInclUs, top),
  };
}

function table(title: string, rows: ProfileRow[], perRequest: boolean): string {
  const head = perRequest
    ? `| ${title} | ms | % of busy | µs/request |\n| --- | --: | --: | --: |`
    : `| ${title} | ms | % of busy |\n| --- | --: | --: |`;
  const body = rows.map((r) =>
    perRequest
      ? `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms} | ${r.share} | ${r.usPerRequest} |`
      : `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms} | ${r.share} |`,
  );
  return [head, ...body].join('\n');
}

/** Markdown for one profile (used by run.ts and the CLI below). */
export function profileMarkdown(summary: ProfileSummary, heading: string, top = 15): string {
  const perRequest = summary.requests !== undefined;
  const lines = [
    `### ${heading}`,
    '',
    `\`${path.relative(process.cwd(), summary.file)}\`: ${summary.windowMs} ms sampled, ${summary.busyMs} ms busy` +
      ` (${summary.idleMs} ms idle, ${summary.gcMs} ms GC)` +
      (perRequest
        ? `, ${summary.requests} requests: **${summary.busyUsPerRequest} µs of API CPU per request**.`
        : '.'),
    '',
    table(
      'package (node internals and native code charged to their caller)',
      summary.attributedByPackage.slice(0, top),
      perRequest,
    ),
    '',
    table('top functions (self time)', summary.topFunctions.slice(0, top), perRequest),
    '',
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : Number(args[i + 1]);
  };
  if (!file) {
    console.error(
      'usage: node dist/bench/profile-summary.js <file.cpuprofile> [--requests N] [--from µs --to µs] [--top N]',
    );
    process.exit(2);
  }
  const summary = summarizeProfile(file, {
    requests: flag('--requests'),
    fromUs: flag('--from'),
    toUs: flag('--to'),
    top: flag('--top') ?? 25,
  });
  console.log(profileMarkdown(summary, path.basename(file), flag('--top') ?? 25));
}

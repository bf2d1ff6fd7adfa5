// The structure rules of src/ (docs/architecture.md), checked by `npm run check`:
// 1. no import cycle between files, and none between the folders of src/ (each folder is one
//    node: the folders form layers, so a cycle means a layer reaches up);
// 2. SQL statements live only in repositories (`*.repository.ts`), migrations, and the database
//    infrastructure of src/database/ that creates databases and roles and checks privileges;
// 3. one data path: the repositories reach PostgreSQL through TypeORM. Only the database
//    bootstrap (creating the database and roles), the migrations and the replica's LISTEN
//    connection (a dedicated pg Client, which a pooled connection cannot be) import pg's
//    connections; nothing else imports `Pool`, `PoolClient` or `Client` from pg or makes a pool.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import madge from 'madge';

const SRC = 'src';
const problems = [];

const graph = await madge(SRC, {
  fileExtensions: ['ts'],
  excludeRegExp: [/\.spec\.ts$/, /\.d\.ts$/],
  tsConfig: 'tsconfig.json',
});
for (const cycle of graph.circular()) problems.push(`file import cycle: ${cycle.join(' -> ')}`);

const folderOf = (file) => (file.includes('/') ? file.split('/')[0] : undefined);
const edges = new Map();
for (const [from, deps] of Object.entries(graph.obj())) {
  for (const to of deps) {
    const [a, b] = [folderOf(from), folderOf(to)];
    if (!a || !b || a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a).add(b);
  }
}
// A folder cycle exists when some folder reaches itself through others.
const reach = (start) => {
  const seen = new Set();
  const stack = [...(edges.get(start) ?? [])];
  while (stack.length) {
    const next = stack.pop();
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(edges.get(next) ?? []));
  }
  return seen;
};
for (const folder of edges.keys()) {
  if (reach(folder).has(folder)) {
    const back = [...edges.get(folder)].filter((to) => reach(to).has(folder));
    problems.push(
      `folder cycle: ${folder} imports ${back.join(', ')}, which import ${folder} back`,
    );
  }
}

const SQL = /\b(SELECT|INSERT INTO|DELETE FROM)\b|\bUPDATE\s+[a-z_]+\s+SET\b/;
const SQL_ALLOWED = [
  /\.repository\.ts$/,
  /^src\/database\/migrations\//,
  /^src\/database\/(database-admin|app-role|database-connector)\.ts$/,
];
const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
for (const path of walk(SRC)) {
  const file = relative('.', path);
  if (!file.endsWith('.ts') || file.endsWith('.spec.ts') || file.endsWith('.d.ts')) continue;
  if (SQL_ALLOWED.some((allowed) => allowed.test(file))) continue;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (SQL.test(line))
        problems.push(`SQL outside a repository: ${file}:${i + 1}: ${line.trim()}`);
    });
}

const PG_CONNECTION =
  /import\s*(type\s*)?\{[^}]*\b(Pool|PoolClient|Client)\b[^}]*\}\s*from\s*'pg'|\bnew\s+(pg\.)?Pool\(/;
const PG_ALLOWED = [
  /^src\/database\/migrations\//,
  /^src\/database\/(database-admin|app-role|notification-listener)\.ts$/,
];
for (const path of walk(SRC)) {
  const file = relative('.', path);
  if (!file.endsWith('.ts') || file.endsWith('.spec.ts') || file.endsWith('.d.ts')) continue;
  if (PG_ALLOWED.some((allowed) => allowed.test(file))) continue;
  if (PG_CONNECTION.test(readFileSync(path, 'utf8').replace(/\n/g, ' '))) {
    problems.push(
      `a pg connection outside the database bootstrap: ${file} (use a TypeORM repository)`,
    );
  }
}

for (const problem of problems) console.error(problem);
if (problems.length) process.exit(1);
console.log(
  `architecture: ${Object.keys(graph.obj()).length} files, ${edges.size} folders, no cycles, SQL only in repositories, one data path`,
);

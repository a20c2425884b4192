/**
 * The README's "Quick start" code, compiled as written by three consumer projects that have the packed tarball in
 * their node_modules: ESM with `moduleResolution: bundler`, ESM under `node16` (`"type": "module"`), and CommonJS
 * under `node16` (no "type", plain `import` compiled to `require`). Each project runs the repository's tsc once
 * (strict, skipLibCheck off, so the shipped .d.ts/.d.cts files are checked too) over every snippet as its own module.
 *
 * The snippets are read from README.md when the test runs: every fenced block tagged ts/typescript/js/javascript
 * under `## Quick start` and its subsections. What a snippet leaves to the reader's app (`getToken()`, an `app`) is
 * declared in PRELUDE below, never patched into the snippet: a snippet that does not compile is a README to fix.
 *
 * No network: the tarball is unpacked by tar, the other packages are symlinks into this repository's node_modules.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, bin, pack, unpackInto } from './pack';

interface Snippet {
  /** `Quick start › Server`: the headings above the block, from the `##` one down. */
  heading: string;
  /** 1-based among the compiled blocks under that same heading. */
  index: number;
  /** 1-based README line of the opening fence. */
  line: number;
  lang: 'ts' | 'js';
  code: string;
}

const SECTION = 'Quick start';
const LANGS: Record<string, Snippet['lang']> = { ts: 'ts', typescript: 'ts', js: 'js', javascript: 'js' };

/**
 * The compiled blocks of the `## Use it` and `## Quick start` sections, in README order. Headings inside fences do not
 * count.
 */
function quickStartSnippets(markdown: string): Snippet[] {
  const lines = markdown.split(/\r?\n/);
  const snippets: Snippet[] = [];
  const trail: string[] = []; // trail[level - 1] is the current heading of that level
  let fence: { marker: string; lang: Snippet['lang'] | undefined; line: number; body: string[] } | undefined;
  lines.forEach((text, i) => {
    if (fence) {
      if (text.trim() === fence.marker) {
        const inSection = trail[1] === SECTION || trail[1] === 'Use it';
        if (inSection && fence.lang) {
          const heading = trail.slice(1).filter(Boolean).join(' › ');
          const index = snippets.filter((s) => s.heading === heading).length + 1;
          snippets.push({ heading, index, line: fence.line, lang: fence.lang, code: fence.body.join('\n') + '\n' });
        }
        fence = undefined;
      } else fence.body.push(text);
      return;
    }
    const open = /^\s{0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(text);
    if (open) {
      fence = { marker: open[1]!, lang: LANGS[open[2]!.toLowerCase()], line: i + 1, body: [] };
      return;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading) {
      const level = heading[1]!.length;
      trail.length = level;
      trail[level - 1] = heading[2]!;
    }
  });
  return snippets;
}

/**
 * Placeholders the snippets leave to the reader's app, as globals (a .d.ts without imports is a script). Each is
 * typed as an app would have it, so that a snippet misusing a value the package gives it still fails.
 */
const PRELUDE = `// Placeholders the README's Quick start snippets leave to the reader's app.

// "ESM / CJS": auth: async () => ({ token: await getToken() })
declare function getToken(): Promise<string>;
// "ESM / CJS": client.on('chat', (msg) => render(msg.user, msg.text))
declare function render(user: string, text: string): void;
// "ESM / CJS": client.lifecycle.on('resync', () => reloadState())
declare function reloadState(): void;
// "Server": http.createServer(app), "plain Node or the server under an express app": a request listener.
declare const app: import('node:http').RequestListener;
`;

interface Project {
  name: string;
  packageJson: Record<string, unknown>;
  compilerOptions: Record<string, unknown>;
}

const COMMON = {
  strict: true,
  skipLibCheck: false,
  noEmit: true,
  target: 'ES2022',
  // The client's types name the browser's WebSocket, EventSource and fetch types; the server snippet needs Node's.
  lib: ['ES2022', 'DOM'],
  types: ['node'],
  // Every snippet is its own module, even one without import or export.
  moduleDetection: 'force',
  allowJs: true,
  checkJs: true,
};

const PROJECTS: Project[] = [
  {
    name: 'ESM, module esnext + moduleResolution bundler',
    packageJson: { name: 'consumer-bundler', private: true, type: 'module' },
    compilerOptions: { ...COMMON, module: 'esnext', moduleResolution: 'bundler' },
  },
  {
    name: 'ESM, "type": "module" + module/moduleResolution node16',
    packageJson: { name: 'consumer-node16-esm', private: true, type: 'module' },
    compilerOptions: { ...COMMON, module: 'node16', moduleResolution: 'node16' },
  },
  {
    name: 'CJS, no "type" + module/moduleResolution node16',
    packageJson: { name: 'consumer-node16-cjs', private: true },
    compilerOptions: { ...COMMON, module: 'node16', moduleResolution: 'node16' },
  },
];

/** `realtime-fallback/server` → realtime-fallback; `@a/b/c` → @a/b; `node:http`, `./x` → undefined. */
function packageOf(specifier: string): string | undefined {
  if (/^(node:|\.|\/)/.test(specifier)) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** What a consumer would have installed beside us: @types/node, and each package a snippet imports (with its @types). */
function linkedPackages(snippets: Snippet[]): string[] {
  const names = new Set<string>();
  for (const s of snippets) {
    for (const m of s.code.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)) {
      const name = packageOf(m[1]!);
      if (name && name !== 'realtime-fallback') names.add(name);
    }
  }
  const wanted = ['@types/node'];
  for (const name of names) {
    wanted.push(name, `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`);
  }
  return wanted.filter((name) => existsSync(join(ROOT, 'node_modules', name)));
}

const fileOf = (s: Snippet, i: number): string => `snippet-${i + 1}.${s.lang}`;
const title = (s: Snippet): string => `README "${s.heading}" block ${s.index} (README.md line ${s.line})`;

interface Compiled {
  status: number | null;
  output: string;
}

function tsc(cwd: string): Promise<Compiled> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin('tsc'), ['-p', 'tsconfig.json', '--pretty', 'false'], { cwd, env: { ...process.env, NODE_PATH: '' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

const snippets = quickStartSnippets(readFileSync(join(ROOT, 'README.md'), 'utf8'));
let dir: string;
const results = new Map<string, Compiled>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'realtime-fallback-readme-'));
  const { tarball } = pack(dir);
  const links = linkedPackages(snippets);
  await Promise.all(
    PROJECTS.map(async (project, p) => {
      const app = join(dir, `app-${p + 1}`);
      unpackInto(tarball, app);
      for (const name of links) {
        const target = join(app, 'node_modules', name);
        mkdirSync(dirname(target), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', name), target, 'dir');
      }
      writeFileSync(join(app, 'package.json'), JSON.stringify(project.packageJson, null, 2));
      const files = snippets.map(fileOf);
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: project.compilerOptions, files: ['prelude.d.ts', ...files] }, null, 2));
      writeFileSync(join(app, 'prelude.d.ts'), PRELUDE);
      snippets.forEach((s, i) => writeFileSync(join(app, fileOf(s, i)), s.code));
      results.set(project.name, await tsc(app));
    }),
  );
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it(`README.md has ts/js blocks under "## ${SECTION}", among them the client and the server`, () => {
  expect(snippets.length).toBeGreaterThanOrEqual(2);
  expect(snippets.some((s) => s.code.includes("from 'realtime-fallback'"))).toBe(true);
  expect(snippets.some((s) => s.code.includes("from 'realtime-fallback/server'"))).toBe(true);
});

describe.each(PROJECTS)('a consumer project: $name', (project) => {
  const report = (extra: string): string => {
    const r = results.get(project.name)!;
    return `${extra}\n--- tsc (exit ${r.status}) in ${project.name} ---\n${r.output || '(no output)'}`;
  };

  snippets.forEach((s, i) => {
    const file = fileOf(s, i);
    it(`compiles ${title(s)}`, () => {
      const r = results.get(project.name);
      expect(r, 'tsc did not run').toBeDefined();
      const mine = r!.output.split('\n').filter((l) => l.startsWith(`${file}(`));
      const numbered = s.code.trimEnd().split('\n').map((l, n) => `${String(n + 1).padStart(3)} | ${l}`).join('\n');
      expect(mine, report(`${file} = ${title(s)}:\n${numbered}\n`)).toEqual([]);
    });
  });

  it('has no error outside the snippets (the prelude, the package’s .d.ts files, tsc itself)', () => {
    const r = results.get(project.name)!;
    const lines = r.output.split('\n').filter((l) => l.trim() !== '');
    const inSnippets = (l: string): boolean => snippets.some((s, i) => l.startsWith(`${fileOf(s, i)}(`));
    expect(lines.filter((l) => !inSnippets(l)), report('')).toEqual([]);
    // A failing exit must be explained by a snippet's error (reported by that snippet's test).
    if (r.status !== 0) expect(lines.some(inSnippets), report('')).toBe(true);
  });
});

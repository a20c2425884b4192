/**
 * No `eval`, `new Function` or string-to-code timers in any built bundle (a CSP without 'unsafe-eval' must work).
 * `npm test` builds dist/ first; run `npm run build` before running this file alone.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = join(__dirname, '../../../dist');
const BUNDLE = /\.(js|mjs|cjs)$/;

/** Patterns that compile strings to code. Comments are stripped first so prose like "evaluated" cannot match. */
const FORBIDDEN: [string, RegExp][] = [
  ['eval(', /(^|[^\w$.])eval\s*\(/],
  ['new Function(', /\bnew\s+Function\s*\(/],
  ['Function("…")', /(^|[^\w$.])Function\s*\(\s*["'`]/],
  ['setTimeout("…")', /\bset(Timeout|Interval)\s*\(\s*["'`]/],
];

/** Strips block and line comments (good enough for generated bundles; string contents may be mangled, which only errs towards reporting). */
const stripComments = (code: string): string => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/[^\n]*/g, '$1');

describe('built bundles', () => {
  it('exist (run `npm run build`, or `npm test`, which builds first)', () => {
    const files = existsSync(DIST) ? readdirSync(DIST).filter((f) => BUNDLE.test(f)) : [];
    if (files.length === 0) throw new Error(`no bundles in ${DIST}: run \`npm run build\` first (\`npm test\` does it for you)`);
    expect(files).toEqual(expect.arrayContaining(['index.mjs', 'index.cjs', 'server.mjs', 'server.cjs', 'realtime-fallback.umd.js', 'realtime-fallback.umd.min.js']));
  });

  it('contain no eval, new Function or string timers', () => {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first (\`npm test\` does it for you)`);
    const hits: string[] = [];
    for (const file of readdirSync(DIST).filter((f) => BUNDLE.test(f))) {
      const code = stripComments(readFileSync(join(DIST, file), 'utf8'));
      for (const [name, re] of FORBIDDEN) {
        const m = re.exec(code);
        if (m) hits.push(`${file}: ${name} near ${JSON.stringify(code.slice(Math.max(0, m.index - 40), m.index + 40))}`);
      }
    }
    expect(hits, hits.join('\n')).toEqual([]);
  });

  it('the check itself finds each pattern', () => {
    for (const [name, re] of FORBIDDEN) {
      const sample = { 'eval(': 'x=eval("1")', 'new Function(': 'f=new Function("a","b")', 'Function("…")': 'g=Function("return this")', 'setTimeout("…")': 'setTimeout("go()",1)' }[name]!;
      expect(re.test(stripComments(sample)), name).toBe(true);
    }
    expect(FORBIDDEN.some(([, re]) => re.test(stripComments('/* evaluated */ // eval(x)\nobj.evaluate(1)')))).toBe(false);
  });
});

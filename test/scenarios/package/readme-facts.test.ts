/**
 * What the README may say, checked against the files it summarises: it starts with the two commands (demo, every
 * test) and stays short; it cites no test file and no issue number (those belong in docs/); the figures it quotes
 * are those of bench/RESULTS.md, the one generated source; and its server options table names every option of
 * `createRealtimeServer` with the default `DEFAULTS` holds. Reads files only (no build, no process).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../../src/server/options';
import { ROOT } from './pack';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const results = readFileSync(join(ROOT, 'bench/RESULTS.md'), 'utf8');

/** The text of the `## heading` section, up to the next `## `. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README: no "## ${heading}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

/** A table row of RESULTS.md whose first cell starts with `label`, as its cells. */
function resultsRow(label: string): string[] {
  const line = results.split('\n').find((l) => l.startsWith(`| ${label}`));
  if (!line) throw new Error(`bench/RESULTS.md: no row "${label}"`);
  return line.split('|').slice(1, -1).map((c) => c.trim());
}

describe('the README', () => {
  it('starts with the demo command and the every-test command, and stays under 25 KB', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme);
    const commands = firstBlock![1]!.trim().split('\n').map((l) => l.replace(/\s+#.*$/, ''));
    expect(commands).toEqual(['npm install && npm run demo', 'npm install && npm test']);
    expect(readme.slice(0, firstBlock!.index).trim()).toBe('# realtime-fallback');
    expect(Buffer.byteLength(readme)).toBeLessThan(25_000);
  });

  it('cites no test file and no issue number', () => {
    expect(readme.match(/test\/[\w/.-]+\.test\.ts/g) ?? []).toEqual([]);
    expect(readme.match(/(?:issue|#)\s?\d+\b/gi) ?? []).toEqual([]);
  });

  it('quotes the bundle sizes bench/RESULTS.md has', () => {
    const gzip = (label: string): string => `${Number.parseFloat(resultsRow(label)[2]!).toFixed(1)} KB`;
    const sizes = section(readme, 'Size and speed');
    expect(sizes).toContain(`${gzip('realtime-fallback ESM default')} min+gzip for the ESM default import`);
    expect(sizes).toContain(`${gzip('realtime-fallback UMD min')} for the UMD file`);
  });

  it('quotes the failover times bench/RESULTS.md has (rounded to the second)', () => {
    const seconds = (label: string): number => Math.round(Number.parseFloat(resultsRow(label)[1]!) / 1000);
    const behaviour = section(readme, 'Behaviour');
    expect(behaviour).toContain(`a hanging upgrade costs about ${seconds('WebSocket upgrade never answered → SSE')} s`);
    expect(behaviour).toContain(`buffering proxy in front of SSE\nabout ${seconds('WebSocket upgrade never answered, SSE buffered')} s`);
  });

  it('lists every server option with its default', () => {
    const table = section(readme, 'Server options');
    const rows = new Map(
      table
        .split('\n')
        .filter((l) => l.startsWith('| `'))
        .flatMap((l) => {
          const [names, def] = l.split(' | ');
          return [...names!.matchAll(/`(\w+)`/g)].map((m) => [m[1]!, def!] as const);
        }),
    );
    const mib = (n: number): string => (n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : String(n));
    for (const [name, value] of Object.entries(DEFAULTS)) {
      expect(rows.has(name), `server option ${name} is not in the README's table`).toBe(true);
      if (typeof value === 'number') expect(rows.get(name), name).toMatch(new RegExp(`\`${value}\`|${mib(value)}`));
      if (typeof value === 'string') expect(rows.get(name), name).toContain(`'${value}'`);
    }
    for (const name of ['server', 'authenticate', 'cors', 'adapter', 'sessionStore', 'bus', 'logger']) {
      expect(rows.has(name), `server option ${name} is not in the README's table`).toBe(true);
    }
  });
});

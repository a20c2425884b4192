/**
 * The payload warnings are development-only: an app bundler building for production (`process.env.NODE_ENV` set to
 * "production") leaves their code out, and so does the minified script-tag file; a development build keeps them.
 * Recognised by a phrase only the warnings use ("JSON sends"). Needs dist/ (npm run build).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../../bench/size.mjs';

const MARKER = 'JSON sends';

/** Every chunk an app bundler makes of `import { RealtimeClient } from 'realtime-fallback'`, as one text. */
async function appBundle(nodeEnv: string): Promise<string> {
  const result = await build({
    stdin: { contents: `export { RealtimeClient } from ${JSON.stringify(path.join(ROOT, 'dist/index.mjs'))};`, resolveDir: ROOT, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    outdir: path.join(ROOT, '.size-out'),
    write: false,
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': JSON.stringify(nodeEnv) },
  });
  return result.outputFiles.map((f) => f.text).join('');
}

describe('development-only payload warnings', () => {
  it('are absent from a production app bundle and the minified script-tag file, present in development builds', async () => {
    for (const f of ['dist/index.mjs', 'dist/realtime-fallback.umd.min.js', 'dist/realtime-fallback.umd.js']) {
      expect(existsSync(path.join(ROOT, f)), `${f} missing: run npm run build`).toBe(true);
    }
    expect(await appBundle('production')).not.toContain(MARKER);
    expect(await appBundle('development')).toContain(MARKER);
    const umd = (file: string) => readFileSync(path.join(ROOT, 'dist', file), 'utf8');
    expect(umd('realtime-fallback.umd.min.js')).not.toContain(MARKER);
    expect(umd('realtime-fallback.umd.min.js')).not.toContain('process.env');
    expect(umd('realtime-fallback.umd.js')).toContain(MARKER);
    expect(umd('realtime-fallback.umd.js')).not.toContain('process.env');
  }, 60_000);
});

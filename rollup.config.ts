import type { RollupOptions, Plugin } from 'rollup';
import typescript from '@rollup/plugin-typescript';
import resolve from '@rollup/plugin-node-resolve';
import commonjs from '@rollup/plugin-commonjs';
import terser from '@rollup/plugin-terser';
import { dts } from 'rollup-plugin-dts';
import { builtinModules } from 'node:module';
import { rmSync } from 'node:fs';

// Compile only src/ (tests and tools are type-checked by `tsc --noEmit`, not bundled).
const ts = (): Plugin =>
  typescript({
    tsconfig: './tsconfig.build.json',
    include: ['src/**/*.ts'],
    compilerOptions: { noEmit: false, declaration: false, types: [] },
    noEmitOnError: true,
  });

// ESM/CJS builds leave dependencies to the app's bundler, which then splits the lazily imported
// event-source-polyfill into its own chunk: apps with a native EventSource never download it.
const clientExternal = ['event-source-polyfill'];

// The script-tag build leaves event-source-polyfill out: it is ES2020, so every browser that runs it has fetch, and
// SSE reads with fetch wherever a native EventSource does not serve. The loader then says why there is none.
const withoutPolyfill = (): Plugin => ({
  name: 'without-event-source-polyfill',
  resolveId: (id) => (id === 'event-source-polyfill' ? '\0no-event-source-polyfill' : null),
  load: (id) =>
    id === '\0no-event-source-polyfill'
      ? `export const notIncluded = 'the script-tag build leaves out event-source-polyfill (pass EventSource to use one)';`
      : null,
});
/**
 * The script-tag files have no bundler after them to replace `process.env.NODE_ENV` (browsers have no `process`):
 * `.umd.js` is the development build (payload warnings on), `.umd.min.js` the production one (terser then drops the
 * development-only code), as React and Vue ship theirs.
 */
const nodeEnv = (value: 'development' | 'production'): Plugin => ({
  name: `node-env-${value}`,
  renderChunk: (code) => ({ code: code.replaceAll('process.env.NODE_ENV', JSON.stringify(value)), map: null }),
});
const serverExternal = ['ws', 'redis', ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

// Chunk names carry a content hash, and a build without maps must not leave an earlier build's maps behind (`npm pack`
// would ship both): the first build (configs run in order) empties dist/.
const freshDist = (): Plugin => ({
  name: 'fresh-dist',
  buildStart: () => rmSync('dist', { recursive: true, force: true }),
});

/**
 * No source maps in the package: they were three quarters of it (4.7 MB unpacked), and its ESM, CJS and server files
 * are not minified, so a stack trace already points at readable code; the minified script-tag file has its readable
 * twin (`.umd.js`). `SOURCEMAPS=1 npm run build` writes them for local debugging (docs/design-notes.md, "Source maps").
 */
const sourcemap = process.env.SOURCEMAPS === '1';

const config: RollupOptions[] = [
  {
    // `share` (realtime-fallback/share) is an entry of its own: apps that do not share tabs never load its code.
    input: { index: 'src/index.ts', share: 'src/share.ts' },
    external: clientExternal,
    plugins: [freshDist(), ts()],
    output: [
      { dir: 'dist', format: 'es', entryFileNames: '[name].mjs', chunkFileNames: 'chunks/[name]-[hash].mjs', sourcemap },
      { dir: 'dist', format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'chunks/[name]-[hash].cjs', exports: 'named', sourcemap },
    ],
  },
  // The script-tag builds carry everything in one file, but event-source-polyfill (see withoutPolyfill); tab sharing
  // has a file of its own (realtime-fallback.share.umd*.js), so that pages that do not share do not download it.
  ...(
    [
      ['src/umd.ts', 'realtime-fallback'],
      ['src/umd-share.ts', 'realtime-fallback.share'],
    ] as const
  ).map(
    ([input, name]): RollupOptions => ({
      input,
      plugins: [withoutPolyfill(), resolve({ browser: true }), commonjs(), ts()],
      output: [
        {
          file: `dist/${name}.umd.js`,
          format: 'umd',
          name: 'RealtimeFallback',
          exports: 'named',
          inlineDynamicImports: true,
          sourcemap,
          plugins: [nodeEnv('development')],
        },
        {
          file: `dist/${name}.umd.min.js`,
          format: 'umd',
          name: 'RealtimeFallback',
          exports: 'named',
          inlineDynamicImports: true,
          sourcemap,
          plugins: [nodeEnv('production'), terser()],
        },
      ],
    }),
  ),
  {
    input: 'src/server/index.ts',
    external: serverExternal,
    plugins: [ts()],
    output: [
      { file: 'dist/server.mjs', format: 'es', sourcemap },
      { file: 'dist/server.cjs', format: 'cjs', exports: 'named', sourcemap },
    ],
  },
  {
    // The Redis adapter: its own entry, so apps without Redis never load node-redis (an optional peer dependency).
    input: 'src/server/redis/index.ts',
    external: serverExternal,
    plugins: [ts()],
    output: [
      { file: 'dist/server-redis.mjs', format: 'es', sourcemap },
      { file: 'dist/server-redis.cjs', format: 'cjs', exports: 'named', sourcemap },
    ],
  },
  // One declaration bundle per entry, written twice: `.d.ts` for `import` and `.d.cts` for `require` (package.json
  // `exports`), since TypeScript reads a `.d.ts` beside `"type": "module"` as ESM. The same text serves both: each
  // bundle is self-contained (it imports only node: builtins) and has named exports only, as the CJS builds do
  // (test/scenarios/package runs arethetypeswrong on the packed files, which would catch a bundle where that fails).
  ...(
    [
      ['src/index.ts', 'index', clientExternal],
      ['src/share.ts', 'share', clientExternal],
      ['src/server/redis/index.ts', 'server-redis', serverExternal],
      ['src/server/index.ts', 'server', serverExternal],
    ] as const
  ).map(([input, name, external]): RollupOptions => ({
    input,
    external,
    plugins: [dts()],
    output: [
      { file: `dist/${name}.d.ts`, format: 'es' },
      { file: `dist/${name}.d.cts`, format: 'es' },
    ],
  })),
];

export default config;

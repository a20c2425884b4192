/**
 * The README's React hook ("Use with React and Vue"), run as written: the block is read from README.md, compiled by
 * TypeScript (type-checked against the client's types and React's hook signatures, then run) with a minimal stand-in
 * for React's useState/useEffect (one component, effects after render, cleanups on unmount) and this repository's
 * client. Against a port nothing listens on, it shows an
 * error state (`transport_failed`) instead of waiting forever; against a real server the state clears on open and
 * messages arrive; unmounting closes the client.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import * as realtime from '../../../src/index';
import { createRealtimeServer, type RealtimeServer, type Session } from '../../../src/server';
import { ROOT } from './pack';

/** The README block under "## Use with React and Vue" that imports react. */
function hookSource(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use with React and Vue'));
  const block = /```tsx\n([\s\S]*?)```/.exec(section);
  if (!block || !block[1]!.includes("from 'react'")) throw new Error('README: no tsx block importing react under "Use with React and Vue"');
  return block[1]!;
}

type Hook = (url: string, event: string) => { last: unknown; error: realtime.RealtimeError | undefined };

/** Just enough of React for one hook in one component: state slots, effects with deps, cleanups. */
function mount(url: string, event: string) {
  const slots: unknown[] = [];
  const effects: { deps: unknown[]; cleanup?: (() => void) | void }[] = [];
  let pending: (() => void)[] = [];
  let state = 0;
  let effect = 0;
  let result: ReturnType<Hook> | undefined;
  const react = {
    useState(initial?: unknown) {
      const k = state++;
      if (!(k in slots)) slots[k] = initial;
      const set = (v: unknown) => {
        slots[k] = typeof v === 'function' ? (v as (p: unknown) => unknown)(slots[k]) : v;
        render();
      };
      return [slots[k], set];
    },
    useEffect(fn: () => (() => void) | void, deps: unknown[]) {
      const k = effect++;
      const prev = effects[k];
      if (prev && deps.every((d, j) => d === prev.deps[j])) return;
      pending.push(() => {
        prev?.cleanup?.();
        effects[k] = { deps, cleanup: fn() };
      });
    },
  };
  const { outputText } = ts.transpileModule(hookSource(), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, jsx: ts.JsxEmit.Preserve } });
  const exports: { useRealtime?: Hook } = {};
  const require = (name: string): unknown => ({ react, 'realtime-fallback': realtime })[name];
  new Function('require', 'exports', outputText)(require, exports);
  function render(): void {
    state = 0;
    effect = 0;
    result = exports.useRealtime!(url, event);
    const run = pending;
    pending = [];
    for (const f of run) f();
  }
  render();
  return {
    get current() {
      return result!;
    },
    unmount: () => effects.forEach((e) => e.cleanup?.()),
  };
}

const servers: Server[] = [];
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** React's signatures of the two hooks the snippet uses, as @types/react declares them (React is not installed here). */
const REACT_TYPES = `declare module 'react' {
  type SetStateAction<S> = S | ((prevState: S) => S);
  type Dispatch<A> = (value: A) => void;
  export function useState<S>(initialState: S | (() => S)): [S, Dispatch<SetStateAction<S>>];
  export function useState<S = undefined>(): [S | undefined, Dispatch<SetStateAction<S | undefined>>];
  export function useEffect(effect: () => void | (() => void), deps?: readonly unknown[]): void;
}
`;

describe("the README's React hook", () => {
  it('type-checks (strict) against the client and React hook types', () => {
    const dir = mkdtempSync(join(tmpdir(), 'readme-react-'));
    try {
      writeFileSync(join(dir, 'react.d.ts'), REACT_TYPES);
      writeFileSync(join(dir, 'hook.tsx'), hookSource());
      const program = ts.createProgram([join(dir, 'react.d.ts'), join(dir, 'hook.tsx')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        jsx: ts.JsxEmit.Preserve,
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: [],
        skipLibCheck: true,
        baseUrl: ROOT,
        paths: { 'realtime-fallback': ['src/index.ts'] },
      });
      const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(problems).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('shows an error state when nothing answers, instead of waiting forever', async () => {
    const probe = createServer();
    const port = await listen(probe);
    servers.pop();
    await new Promise((r) => probe.close(r)); // the port is now closed
    const hook = mount(`http://127.0.0.1:${port}/realtime`, 'chat');
    stops.push(hook.unmount);
    await until(() => hook.current.error !== undefined, 'an error state');
    expect(hook.current.error).toBeInstanceOf(realtime.RealtimeError);
    expect(hook.current.error!.code).toBe('transport_failed');
    expect(hook.current.error!.message).toContain('ECONNREFUSED');
    expect(hook.current.last).toBeUndefined();
  });

  it('clears the error state on open and shows the last message; unmounting closes the client', async () => {
    let rt: RealtimeServer | undefined;
    const sessions: Session[] = [];
    const http = createServer((req, res) => void (rt!.handler(req, res) || res.writeHead(404).end()));
    const port = await listen(http);
    rt = createRealtimeServer({ logger: { debug() {}, warn() {}, error() {} } });
    stops.push(() => void rt!.close());
    rt.on('connection', (s) => void sessions.push(s));
    const hook = mount(`http://127.0.0.1:${port}/realtime`, 'chat');
    await until(() => sessions.length === 1, 'a session');
    sessions[0]!.emit('chat', { text: 'hi' });
    await until(() => hook.current.last !== undefined, 'a message');
    expect(hook.current).toEqual({ last: { text: 'hi' }, error: undefined });
    hook.unmount();
    await until(() => sessions[0]!.connected === false, 'the client gone', 5000);
  });
});

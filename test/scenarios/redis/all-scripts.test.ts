// The scripts loaded into Redis at start: every script the adapter runs, once, and nothing else.
import { describe, expect, it } from 'vitest';
import { allScripts } from '../../../src/server/redis/all-scripts';
import * as busScripts from '../../../src/server/redis/bus-scripts';
import * as clientFrameScripts from '../../../src/server/redis/client-frame-scripts';
import { LuaScript } from '../../../src/server/redis/lua-script';
import * as replayLogScripts from '../../../src/server/redis/replay-log-scripts';
import * as sessionLogScripts from '../../../src/server/redis/session-log-scripts';

describe('allScripts', () => {
  it('lists every script the script modules export, each once', () => {
    const exported = [busScripts, clientFrameScripts, replayLogScripts, sessionLogScripts].flatMap((m) => Object.values(m).filter((v) => v instanceof LuaScript));
    expect(new Set(allScripts)).toEqual(new Set(exported));
    expect(allScripts).toHaveLength(exported.length);
    expect(new Set(allScripts.map((s) => s.name)).size).toBe(allScripts.length);
  });
});

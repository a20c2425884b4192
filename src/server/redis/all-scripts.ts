import type { LuaScript } from './lua-script';
import { busHeadScript, publishScript } from './bus-scripts';
import { acceptScript, doneScript, unfinishedScript } from './client-frame-scripts';
import { readAfterScript, writeManyScript } from './replay-log-scripts';
import { createScript, endIfIdleScript, endScript, joinScript, leaveScript, pushScript, rekeyScript, setOwnerScript, touchScript } from './session-log-scripts';

/** Every script the adapter runs, for loading them all into Redis up front (`LuaScript.load`). */
export const allScripts: readonly LuaScript[] = [
  createScript,
  rekeyScript,
  writeManyScript,
  readAfterScript,
  acceptScript,
  doneScript,
  unfinishedScript,
  setOwnerScript,
  touchScript,
  joinScript,
  leaveScript,
  endScript,
  endIfIdleScript,
  pushScript,
  publishScript,
  busHeadScript,
];

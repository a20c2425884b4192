import type { SequencedFrame } from '../../protocol/frames';
import type { SessionSnapshot } from '../session-journal';
import type { SessionLog, SessionLogState } from './session-log';

/** How many held frames one read brings back while restoring a session (reads stay bounded). */
const RESTORE_PAGE = 200;
/** Reads of a session's state and frames before a restore gives up on a holder that keeps trimming (retried later). */
const LOAD_ATTEMPTS = 5;

/**
 * A live session as Redis holds it, for a process that restores it; null when Redis has no such session or it ended.
 * The state and the frames are read apart: a holder trimming acknowledged frames meanwhile makes the pages start past
 * the state's first id. That is a race, not a lost session: both are read again.
 */
export async function loadSnapshot(log: SessionLog, sid: string): Promise<SessionSnapshot | null> {
  for (let attempt = 1; ; attempt++) {
    const state = await log.load(sid);
    if (!state || state.ended !== null) return null;
    const frames = await readFrames(log, sid, state.firstId - 1, state.nextId);
    if (frames !== 'trimmed') return snapshot(log, state, frames);
    if (attempt === LOAD_ATTEMPTS) throw new Error(`session ${sid}: its frames were trimmed during ${LOAD_ATTEMPTS} reads in a row`);
  }
}

/** Frames after `last` up to `nextId`, or 'trimmed' when the first of them is gone (a holder trimmed meanwhile). */
async function readFrames(log: SessionLog, sid: string, last: number, nextId: number): Promise<SessionSnapshot['frames'] | 'trimmed'> {
  const frames: SessionSnapshot['frames'] = [];
  while (last < nextId) {
    const page = await log.replay.readAfter(sid, last, RESTORE_PAGE);
    if (!page || page.overrun) return 'trimmed';
    if (page.frames.length === 0) break;
    for (const f of page.frames) frames.push({ frame: JSON.parse(f.text) as SequencedFrame, text: f.text });
    last = page.frames[page.frames.length - 1]!.id;
  }
  return frames;
}

async function snapshot(log: SessionLog, state: SessionLogState, frames: SessionSnapshot['frames']): Promise<SessionSnapshot> {
  return {
    id: state.sid,
    secret: state.secret,
    ...(state.previousSecret === null ? {} : { previousSecret: state.previousSecret }),
    auth: state.auth ?? true,
    lastId: state.nextId,
    accepted: state.accepted,
    floor: state.firstId - 1,
    frames,
    rooms: await log.rooms(state.sid),
    ...(state.busPosition === null ? {} : { busPosition: state.busPosition }),
  };
}

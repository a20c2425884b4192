import { describe, expect, it } from 'vitest';
import type { ServerFrame, WelcomeFrame } from '../../src/protocol/frames';
import { frameProblem } from '../../src/client/frame-check';
import { RealtimeError } from '../../src/client/errors';

const welcome: WelcomeFrame = { t: 'welcome', sid: 's1', secret: 'x', cid: 'c', hb: 1000, resumed: false, ack: 0, maxFrame: 1 << 20 };

describe('frameProblem: a server frame checked against the protocol', () => {
  it('a connection not open yet may only welcome', () => {
    expect(frameProblem(false, welcome)).toBeNull();
    expect(frameProblem(false, { t: 'msg', id: 1, e: 'x' })).toEqual({ kind: 'protocol', message: 'expected a welcome frame, got "msg"' });
    expect(frameProblem(false, { t: 'ping' })).toEqual({ kind: 'protocol', message: 'expected a welcome frame, got "ping"' });
  });

  it('an error frame before the welcome fails the attempt, with its status for the failure policy, whatever the status', () => {
    expect(frameProblem(false, { t: 'error', code: 'unauthorized', message: 'no', status: 401 })).toEqual({ kind: 'http', code: 'unauthorized', status: 401, message: 'unauthorized: no' });
    expect(frameProblem(false, { t: 'error', code: 'bad_request', message: 'odd', status: 400 })).toMatchObject({ kind: 'http', status: 400 });
  });

  it('on an open connection, session frames, heartbeats and echoes are in order', () => {
    const frames = [{ t: 'msg', id: 1, e: 'x' }, { t: 'reply', id: 2, re: 1, ok: true }, { t: 'ack', n: 3 }, { t: 'close', code: 'session_ended' }, { t: 'ping' }, { t: 'echo', n: 1 }] as ServerFrame[];
    for (const frame of frames) expect(frameProblem(true, frame)).toBeNull();
  });

  it('a second welcome fails the connection', () => {
    expect(frameProblem(true, welcome)).toEqual({ kind: 'protocol', message: 'second welcome frame on one connection' });
  });

  it('an error frame refusing one frame (400, 413, or no status) is only reported; others fail the connection', () => {
    for (const status of [400, 413, undefined]) {
      const problem = frameProblem(true, { t: 'error', code: 'bad_request', message: 'too deep', ...(status === undefined ? {} : { status }) });
      expect(problem).toBeInstanceOf(RealtimeError);
      expect((problem as RealtimeError).code).toBe('protocol');
      expect((problem as RealtimeError).message).toBe('server reported bad_request: too deep');
    }
    expect(frameProblem(true, { t: 'error', code: 'unavailable', message: 'later', status: 503, retryAfter: 2 })).toEqual({
      kind: 'http',
      code: 'unavailable',
      status: 503,
      retryAfter: 2,
      message: 'unavailable: later',
    });
  });
});

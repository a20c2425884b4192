import { describe, expect, it } from 'vitest';
import type { ServerFrame, WelcomeFrame } from '../../src/protocol/frames';
import { checkFrame } from '../../src/client/frame-check';
import { RealtimeError } from '../../src/client/errors';

const welcome: WelcomeFrame = { t: 'welcome', sid: 's1', secret: 'x', cid: 'c', hb: 1000, resumed: false, ack: 0, maxFrame: 1 << 20 };

describe('checkFrame: what a server frame means for its connection', () => {
  it('a connection not open yet may only welcome', () => {
    expect(checkFrame(false, welcome)).toEqual({ kind: 'welcome', welcome });
    expect(checkFrame(false, { t: 'msg', id: 1, e: 'x' })).toEqual({ kind: 'fail', failure: { kind: 'protocol', message: 'expected a welcome frame, got "msg"' } });
    expect(checkFrame(false, { t: 'ping' })).toMatchObject({ kind: 'fail' });
  });

  it('an error frame before the welcome fails the attempt with its status, for the failure policy', () => {
    const verdict = checkFrame(false, { t: 'error', code: 'unauthorized', message: 'no', status: 401 });
    expect(verdict).toEqual({ kind: 'fail', failure: { kind: 'http', code: 'unauthorized', status: 401, message: 'unauthorized: no' } });
  });

  it('on an open connection, session frames go to the session and a heartbeat or an echo changes nothing', () => {
    for (const frame of [{ t: 'msg', id: 1, e: 'x' }, { t: 'reply', id: 2, re: 1, ok: true }, { t: 'ack', n: 3 }, { t: 'close', code: 'session_ended' }] as ServerFrame[]) {
      expect(checkFrame(true, frame)).toEqual({ kind: 'session', frame });
    }
    expect(checkFrame(true, { t: 'ping' })).toEqual({ kind: 'none' });
    expect(checkFrame(true, { t: 'echo', n: 1 })).toEqual({ kind: 'none' });
  });

  it('a second welcome fails the connection', () => {
    expect(checkFrame(true, welcome)).toEqual({ kind: 'fail', failure: { kind: 'protocol', message: 'second welcome frame on one connection' } });
  });

  it('an error frame refusing one frame (400, 413, or no status) is reported and the connection goes on; others fail it', () => {
    for (const status of [400, 413, undefined]) {
      const verdict = checkFrame(true, { t: 'error', code: 'bad_request', message: 'too deep', ...(status === undefined ? {} : { status }) });
      expect(verdict.kind).toBe('report');
      const error = (verdict as { error: RealtimeError }).error;
      expect(error).toBeInstanceOf(RealtimeError);
      expect(error.code).toBe('protocol');
      expect(error.message).toBe('server reported bad_request: too deep');
    }
    expect(checkFrame(true, { t: 'error', code: 'unavailable', message: 'later', status: 503, retryAfter: 2 })).toEqual({
      kind: 'fail',
      failure: { kind: 'http', code: 'unavailable', status: 503, retryAfter: 2, message: 'unavailable: later' },
    });
  });
});

import type { WelcomeFrame } from '../protocol/frames';
import type { ResolvedOptions } from './options';
import type { Session } from './session';

/**
 * The `welcome` a handshake on connection `cid` is answered with (protocol §3): the session's id, its current secret,
 * what it accepted and the last frame it numbered, and the limits the client must keep to.
 */
export function welcomeFrame(
  opts: Pick<ResolvedOptions, 'heartbeatMs' | 'maxMessageBytes'>,
  session: Session,
  cid: string,
  resumed: boolean,
  extra: Partial<WelcomeFrame> = {},
): WelcomeFrame {
  return {
    t: 'welcome',
    sid: session.id,
    secret: session.secret,
    cid,
    hb: opts.heartbeatMs,
    resumed,
    ack: session.accepted,
    maxFrame: opts.maxMessageBytes,
    echo: true,
    head: session.lastFrameId,
    ...extra,
  };
}

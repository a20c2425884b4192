import type { ClientFrame } from '../../protocol/frames';
import type { PollReply } from '../adapter';

/** What one process tells another: let a session go, number what waits in its inbox, relay a request. */
export type NodeMessage =
  /** With `from` and `id`: answer `released` once what this process ran of the session is marked done. */
  | { t: 'release'; sid: string; cid: string; from?: string; id?: number }
  | { t: 'released'; id: number }
  | { t: 'inbox'; sid: string }
  /** `secret`: what the client presented, for the holder to check (the store holds it already). */
  | { t: 'send'; sid: string; secret: string; cid: string; frames: ClientFrame[]; from: string; id: number }
  | { t: 'sent'; id: number; n: number | null }
  | { t: 'poll'; sid: string; secret: string; cid: string; last: number | null; from: string; id: number }
  | { t: 'unpoll'; from: string; id: number }
  | { t: 'polled'; id: number; reply: PollReply | null }
  /** Nothing to do: sent only to learn whether the node is still listening. */
  | { t: 'ping' };

/** How the journal reaches the other processes (pub/sub, in RedisAdapter). */
export interface NodeLink {
  /** This process's id, recorded as the owner of the sessions it holds. */
  nodeId: string;
  /**
   * Sends `message` to process `nodeId` (this one included). Resolves whether that process is listening: Redis
   * counts a publish's subscribers, and a dead process's subscription goes with its connection, so false means it
   * is gone.
   */
  tell(nodeId: string, message: NodeMessage): Promise<boolean>;
}

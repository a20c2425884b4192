import type { MessageFrame, OutboundFrame, ReplyFrame, TransportName } from '../../protocol/frames';
import type { TransportFailure } from '../../transports/transport';

/** A reply as the leader passes it on: `tab` and `re` name the asking tab and its own number for the request;
 *  `s` is the request's number in the session (so every tab can forget the request once answered). */
export type SharedReply = Omit<ReplyFrame, 're'> & { re: number; tab: string; s: number };
/** A server frame as every tab receives it, numbered as the server numbered it. */
export type SharedFrame = MessageFrame | SharedReply;

/** An emit or request the leader sent on the connection: its number there (`s`), and whose it is (`tab`, `n`). */
export interface SentItem {
  s: number;
  tab: string;
  n: number;
  f: OutboundFrame;
}

/** A tab's own client asks the leader for the stream (again): from `last`, in session `sid` (null: a new tab). */
export interface Hello {
  k: 'hello';
  tab: string;
  sid: string | null;
  last: number;
  visible: boolean;
}

/** The leader's answer to one tab's hello, once its connection is open. */
export interface LinkWelcome {
  k: 'welcome';
  to: string;
  sid: string;
  /** Id of the last frame the leader passed on: where a new tab starts. */
  last: number;
  /** The tab's own number of its last emit or request the server accepted. */
  ack: number;
  maxFrame: number;
  transport: TransportName;
  /** Frames after the tab's `last`, when it is behind. */
  replay: SharedFrame[];
  /** The tab is further behind than the leader keeps frames: it starts over from `last` (its client sees `resync`). */
  overrun?: true;
  /** The session changed under the tab: its own number of the last frame the lost session accepted (`welcome.prevAck`). */
  prevAck?: number;
  /** What a tab that joins mid-session missed of the replica (see SessionReplica). */
  snapshot: ReplicaSnapshot;
}

/** The replica's state but the frames, for a tab that joins later. */
export interface ReplicaSnapshot {
  sid: string;
  secret: string;
  lastSeq: number;
  inflight: SentItem[];
  accepted: [string, number][];
  acked: [string, number][];
  visible: [string, boolean][];
}

/** Everything said on a sharing channel. Tabs to the leader: hello, up, seen, bye. The leader to every tab: the rest. */
export type TabMessage =
  | Hello
  /** A tab's emits and requests, numbered by the tab (`seq`); resent to each new leader until acknowledged. */
  | { k: 'up'; tab: string; frames: OutboundFrame[] }
  /** A tab's visibility changed. */
  | { k: 'seen'; tab: string; visible: boolean }
  /** A tab's client closed. */
  | { k: 'bye'; tab: string }
  /** A tab took the lock and leads: every tab says hello to it. */
  | { k: 'lead'; tab: string }
  | LinkWelcome
  /** Server frames, in order, for every tab. */
  | { k: 'frames'; frames: SharedFrame[] }
  /** The session the connection runs (written as it changes, for the next leader). */
  | { k: 'session'; sid: string; secret: string }
  /** Frames numbered and about to go out on the connection (before they do, for the next leader). */
  | { k: 'sent'; items: SentItem[] }
  /** The server accepted every frame up to `n`; `tabs`: each tab's own number it accepted up to. */
  | { k: 'acked'; n: number; tabs: Record<string, number> }
  /** The leader's connection dropped or the session changed: tabs reconnect to it (`reason` says why). */
  | { k: 'down'; reason: string }
  /** The leader's connection closed for good (`failure` says why, as the transport reported it). */
  | { k: 'stopped'; failure: TransportFailure };

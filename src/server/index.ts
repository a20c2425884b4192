/** realtime-fallback/server: the Node reference server of the wire protocol (docs/protocol.md). */
export { createRealtimeServer, RealtimeServer } from './realtime-server';
export type { CreateServerOptions, RealtimeServerEvents } from './realtime-server';
export { DEFAULTS, resolveOptions } from './options';
export type { Authenticate, CorsOptions, ServerOptions } from './options';
export type { TrustProxy } from './proxy-trust';
export type { AddressPrefixes } from './address-range';
export { Session } from './session';
export { Broadcaster } from './broadcaster';
export { RealtimeServerError } from './errors';
export type { RealtimeServerErrorCode } from './errors';
export type { Connection, DisconnectReason, EventHandler, HandlerContext, Logger, Reply } from './types';
export { MemorySessionStore } from './session-store';
export type { AdapterSettings, RealtimeAdapter } from './adapter';
export type { RecordedFrame, SessionJournal, SessionSnapshot } from './session-journal';
export type { SessionSecrets } from './session-secret';
export type { SessionStore } from './session-store';
export { MemoryBus } from './bus';
export type { Bus, BusHandler, BusMessage, BusTarget } from './bus';

// Entry `realtime-fallback/share`: everything `realtime-fallback` exports, with a RealtimeClient that takes `share`.
export * from './index';
export { RealtimeClient } from './client/share/shared-client';

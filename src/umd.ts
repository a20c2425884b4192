// Entry of the script-tag build: everything public, under the global `RealtimeFallback`; its RealtimeClient takes the
// `share` option (realtime-fallback/share).
export * from './share';

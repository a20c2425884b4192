// Entry of the script-tag build with tab sharing (realtime-fallback.share.umd.min.js): what the default one has,
// under the same global `RealtimeFallback`, with a RealtimeClient that takes `share`. Its own file, so that pages
// that do not share do not download it.
export * from './share';

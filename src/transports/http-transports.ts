// The HTTP transports, imported on first use: in the ESM build they are a separate chunk, so a client that
// WebSocket serves never downloads them (the script-tag build inlines everything).
export { SseTransport } from './sse';
export { LongPollingTransport } from './polling';

// event-source-polyfill ships CommonJS/UMD only. Loaded as a module script it finds no `module`, so it puts its
// exports on globalThis; this shim re-exports them so the ESM build's `import('event-source-polyfill')` resolves
// (through the import map in esm.html). The ESM page only needs it when the browser lacks EventSource.
import '/vendor/eventsource.js';

export const EventSourcePolyfill = globalThis.EventSourcePolyfill;
export const NativeEventSource = globalThis.NativeEventSource;
export default { EventSourcePolyfill, NativeEventSource };

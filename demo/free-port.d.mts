// Types of demo/free-port.mjs.
export function freePort(): Promise<number>;

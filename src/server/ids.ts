import { randomBytes } from 'node:crypto';

/** `bytes` random bytes as base64url: session ids (16 bytes, ≥ 128 bits) and connection ids (12). */
export const randomId = (bytes = 16): string => randomBytes(bytes).toString('base64url');

export const newConnectionId = (): string => randomId(12);

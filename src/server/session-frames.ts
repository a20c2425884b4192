import type { ReplyFrame, SequencedFrame } from '../protocol/frames';

/** Event names the server uses itself; a client event with one of these names is acknowledged but not run. */
export const RESERVED: ReadonlySet<string> = new Set(['disconnect', 'transport']);

/** An inbox entry as a frame to number, or null when it is not one (written by something else than the adapter). */
export function parseInboxEntry(text: string): SequencedFrame | null {
  try {
    const v = JSON.parse(text) as { t?: unknown; e?: unknown; re?: unknown };
    if (v.t === 'msg' && typeof v.e === 'string') return { ...(v as object), id: 0 } as SequencedFrame;
    if (v.t === 'reply' && typeof v.re === 'number') return { ...(v as object), id: 0 } as SequencedFrame;
  } catch {
    // fall through
  }
  return null;
}

export function toWireError(err: unknown): NonNullable<ReplyFrame['err']> {
  if (typeof err === 'object' && err !== null) {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' && !(err instanceof Error) ? e.code : 'server_error';
    return { code, message: typeof e.message === 'string' ? e.message : String(err) };
  }
  return { code: 'server_error', message: String(err) };
}

/**
 * The message size limit both ways (docs/failure-behaviour.md, "Server limits and their defaults"). A message's size is the UTF-8 bytes of its JSON without the
 * frame's type and numbers: `JSON.stringify({ e: event, d: data })` for an event, `JSON.stringify({ d: data })`
 * (or `{ err }`) for a reply. The server announces its limit in `welcome.maxFrame`; ids do not count, so a message
 * that fits once fits for the session's life.
 */

/**
 * The most bytes a frame adds to its message: its type and up to two numbers of 16 digits (`"t":"reply","id":…,
 * "re":…,` is 55). Wire limits (a WebSocket message, an event stream line, a POST body) allow this on top.
 */
export const FRAME_ENVELOPE_BYTES = 64;

/** The characters an event stream line of one frame may take: `data: ` and the frame of a message of `maxMessage`. */
export function eventStreamLineLimit(maxMessage: number): number {
  return maxMessage + FRAME_ENVELOPE_BYTES + 'data: '.length;
}

/** The most bytes one upstream POST body may carry: four frames of the largest message, and their brackets. */
export function postBodyLimit(maxMessage: number): number {
  return 4 * (maxMessage + FRAME_ENVELOPE_BYTES + 1) + 1;
}

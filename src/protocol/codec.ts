import type { ClientFrame, ServerFrame } from './frames';

/** Result of decoding untrusted text: a frame, or the reason it was refused. Never throws. */
export type Decoded<F> = { ok: true; frame: F } | { ok: false; reason: string };

export function encodeFrame(frame: ServerFrame | ClientFrame): string {
  return JSON.stringify(frame);
}

/** Polling responses and upstream POST bodies carry a JSON array of frames. */
export function encodeBatch(frames: readonly (ServerFrame | ClientFrame)[]): string {
  return JSON.stringify(frames);
}

/** UTF-8 byte length of a string, without allocating a buffer. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4; // surrogate pair: one code point of four bytes
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * Deepest nesting of arrays and objects a client frame may have (the frame object is level 1, its payload level 2):
 * JSON.parse of deeper input costs the server time before anything is checked, and a reply echoing it could not be
 * encoded again.
 */
export const MAX_FRAME_DEPTH = 100;

/** Whether JSON text nests arrays/objects deeper than `max` levels; one pass over the characters, strings skipped. */
export function nestedDeeperThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A string: jump to its closing quote (an escaped quote is preceded by an odd run of backslashes).
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 91 || c === 123) {
      if (++depth > max) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isStr = (v: unknown): v is string => typeof v === 'string';

function parse(text: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: 'malformed JSON' };
  }
}

function checkServerFrame(v: unknown): Decoded<ServerFrame> {
  if (!isObj(v)) return { ok: false, reason: 'frame is not an object' };
  const bad = (what: string): Decoded<ServerFrame> => ({ ok: false, reason: `${String(v.t)} frame: ${what}` });
  switch (v.t) {
    case 'welcome':
      if (!isStr(v.sid) || !isStr(v.secret) || !isStr(v.cid)) return bad('sid, secret and cid must be strings');
      if (!isSeq(v.hb) || v.hb === 0 || !isSeq(v.ack) || !isSeq(v.maxFrame)) return bad('hb, ack, maxFrame must be integers');
      if (typeof v.resumed !== 'boolean') return bad('resumed must be a boolean');
      if (v.echo !== undefined && typeof v.echo !== 'boolean') return bad('echo must be a boolean');
      if (v.head !== undefined && !isSeq(v.head)) return bad('head must be an integer');
      if (v.prevAck !== undefined && !isSeq(v.prevAck)) return bad('prevAck must be an integer');
      break;
    case 'msg':
      if (!isSeq(v.id) || !isStr(v.e)) return bad('needs integer id and string e');
      break;
    case 'reply':
      if (!isSeq(v.id) || !isSeq(v.re)) return bad('needs integer id and re');
      if (v.err !== undefined && (!isObj(v.err) || !isStr(v.err.code))) return bad('err needs a code');
      break;
    case 'ack':
      if (!isSeq(v.n)) return bad('needs integer n');
      break;
    case 'ping':
      break;
    case 'echo':
      if (!isSeq(v.n)) return bad('needs integer n');
      break;
    case 'error':
      if (!isStr(v.code)) return bad('needs a code');
      break;
    case 'close':
      if (!isStr(v.code)) return bad('needs a code');
      break;
    default:
      return { ok: false, reason: `unknown frame type ${JSON.stringify(v.t)}` };
  }
  return { ok: true, frame: v as unknown as ServerFrame };
}

function checkClientFrame(v: unknown): Decoded<ClientFrame> {
  if (!isObj(v)) return { ok: false, reason: 'frame is not an object' };
  const bad = (what: string): Decoded<ClientFrame> => ({ ok: false, reason: `${String(v.t)} frame: ${what}` });
  switch (v.t) {
    case 'emit':
    case 'req':
      if (!isSeq(v.seq) || v.seq === 0 || !isStr(v.e)) return bad('needs integer seq >= 1 and string e');
      break;
    case 'ack':
      if (!isSeq(v.id)) return bad('needs integer id');
      break;
    case 'upgrade':
      if (!isSeq(v.last)) return bad('needs integer last');
      break;
    case 'echo':
      if (!isSeq(v.n)) return bad('needs integer n');
      break;
    default:
      return { ok: false, reason: `unknown frame type ${JSON.stringify(v.t)}` };
  }
  return { ok: true, frame: v as unknown as ClientFrame };
}

export function decodeServerFrame(text: string): Decoded<ServerFrame> {
  const p = parse(text);
  return p.ok ? checkServerFrame(p.value) : p;
}

export function decodeClientFrame(text: string): Decoded<ClientFrame> {
  if (nestedDeeperThan(text, MAX_FRAME_DEPTH)) return tooDeep;
  const p = parse(text);
  return p.ok ? checkClientFrame(p.value) : p;
}

function decodeBatch<F>(text: string, check: (v: unknown) => Decoded<F>): Decoded<F[]> {
  const p = parse(text);
  if (!p.ok) return p;
  if (!Array.isArray(p.value)) return { ok: false, reason: 'batch is not an array' };
  const frames: F[] = [];
  for (const item of p.value) {
    const d = check(item);
    if (!d.ok) return d;
    frames.push(d.frame);
  }
  return { ok: true, frame: frames };
}

export const decodeServerBatch = (text: string): Decoded<ServerFrame[]> => decodeBatch(text, checkServerFrame);
/** A batch is one level deeper than the frames it holds. */
export const decodeClientBatch = (text: string): Decoded<ClientFrame[]> =>
  nestedDeeperThan(text, MAX_FRAME_DEPTH + 1) ? tooDeep : decodeBatch(text, checkClientFrame);

const tooDeep: Decoded<never> = { ok: false, reason: `nested deeper than ${MAX_FRAME_DEPTH} levels` };

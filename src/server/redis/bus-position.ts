/**
 * A position in the bus stream: the entry's stream id and its count `n` (1 for the first entry ever added, then one
 * more per entry). Written `<ms>-<seq>:<n>` with the id zero-padded so that positions compare as strings; the count
 * tells a reader whether entries went missing between two positions (trimmed, or Redis restarted).
 */
export interface BusPosition {
  id: string;
  n: number;
}

export function encodePosition(p: BusPosition): string {
  const [ms = '0', seq = '0'] = p.id.split('-');
  return `${ms.padStart(16, '0')}-${seq.padStart(10, '0')}:${p.n}`;
}

/** Null for a string that is not an encoded position (a session record written by something else). */
export function decodePosition(text: string): BusPosition | null {
  const m = /^(\d+)-(\d+):(\d+)$/.exec(text);
  if (!m) return null;
  return { id: `${BigInt(m[1]!)}-${BigInt(m[2]!)}`, n: Number(m[3]) };
}

import { TRANSPORT_NAMES, type TransportName } from '../protocol/frames';

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

const key = (url: string): string => `realtime-fallback:transport:${url}`;

/** The transport that last worked for `url`, unless the memory has expired. Never throws. */
export function recallTransport(storage: Store | null, url: string, now: number): TransportName | null {
  if (!storage) return null;
  try {
    const raw = storage.getItem(key(url));
    if (raw === null) return null;
    const saved = JSON.parse(raw) as { transport?: unknown; expires?: unknown };
    if (typeof saved.expires !== 'number' || saved.expires <= now) {
      storage.removeItem(key(url)); // an expired fallback must not stick
      return null;
    }
    return TRANSPORT_NAMES.includes(saved.transport as TransportName) ? (saved.transport as TransportName) : null;
  } catch {
    return null; // storage disabled, quota, or garbage from another version
  }
}

/** Remembers a fallback for `ttlMs`; remembering the preferred transport simply forgets the fallback. */
export function rememberTransport(storage: Store | null, url: string, transport: TransportName, preferred: boolean, ttlMs: number, now: number): void {
  if (!storage) return;
  try {
    if (preferred || ttlMs === 0) storage.removeItem(key(url));
    else storage.setItem(key(url), JSON.stringify({ transport, expires: now + ttlMs }));
  } catch {
    // storage full or disabled: remembering is an optimisation only
  }
}

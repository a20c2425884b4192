import type { PersistedState, PersistStore } from './persistence';

/** One database per origin, one record per tab and client URL (see persistKey). */
const DB_NAME = 'realtime-fallback';
const STORE = 'sessions';

/** `persist: true`: the state in IndexedDB. A chunk of its own, loaded only by clients that persist. */
export async function openIndexedDbStore(): Promise<PersistStore> {
  const factory = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  if (!factory) throw new Error('IndexedDB is not available here');
  const db = await request<IDBDatabase>(() => {
    const open = factory.open(DB_NAME, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    return open;
  });
  // Another page upgrading the database must not wait for this one.
  db.onversionchange = () => db.close();
  const run = <T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> =>
    request(() => op(db.transaction(STORE, mode).objectStore(STORE)));
  return {
    load: (key) => run<PersistedState | undefined>('readonly', (s) => s.get(key)),
    save: async (key, state) => void (await run('readwrite', (s) => s.put(state, key))),
    remove: async (key) => void (await run('readwrite', (s) => s.delete(key))),
  };
}

/** An IDBRequest as a promise; `make` may throw (a closed database, a quota error), which rejects it too. */
function request<T>(make: () => IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = make();
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

import { newJoinKey } from '../protocol/carriers';
import { utf8Length } from '../protocol/codec';
import type { Outbox } from './outbox';
import type { PersistedState, PersistStore } from './persistence';
import type { ClientSession } from './session';

/**
 * `persist`: the session and the outbox kept across page loads. A chunk of its own, loaded before the first
 * handshake of a client that persists (apps that do not never download it).
 */
export interface PersistedSession {
  /** The session or the outbox changed: written at the end of this turn (one write for many changes). */
  changed(): void;
  /** A session was taken back with `resume: 'skip'`: what the server sent meanwhile is to be taken as seen. */
  skip: boolean;
  /** Deletes what is kept (logout); nothing more is written. */
  forget(): Promise<void>;
}

export interface PersistSettings {
  store: true | PersistStore;
  endpoint: string;
  /** The tab's sessionStorage, for the key (see persistKey). */
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  resume: 'replay' | 'skip';
  session: ClientSession;
  outbox: Outbox;
  /** A store error, said once: the client goes on in memory. */
  failed(error: unknown): void;
}

/** State older than this is not resumed: no server keeps a session that long. */
const MAX_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Takes back what an earlier page of this tab kept for `user` (anyone else's, or anything a day old, is deleted)
 * into the session and the outbox, then keeps them written as they change. Writes start only after this read, so a
 * new page never overwrites what it has not read yet.
 */
export async function persistSession(settings: PersistSettings, user: string): Promise<PersistedSession> {
  const { session, outbox } = settings;
  const key = persistKey(settings.endpoint, settings.storage);
  let broken = false;
  let forgotten = false;
  let scheduled = false;
  /** The write in progress; the next waits for it, so writes land in order. */
  let writing: Promise<void> = Promise.resolve();
  const fail = (error: unknown): void => {
    if (broken) return;
    broken = true;
    settings.failed(error);
  };

  let store: PersistStore | null = null;
  let kept: PersistedState | undefined;
  try {
    store = settings.store === true ? await (await import('./indexeddb-store')).openIndexedDbStore() : settings.store;
    kept = await store.load(key);
    if (kept && (kept.user !== user || Date.now() - kept.savedAt > MAX_AGE_MS)) {
      await store.remove(key);
      kept = undefined;
    }
  } catch (error) {
    fail(error);
  }
  if (kept?.session) session.restore(kept.session);
  if (kept) outbox.putBack(kept.entries.map((e) => ({ ...e, bytes: utf8Length(JSON.stringify(e.frame)) })), kept.lastSeq);

  const write = (): void => {
    scheduled = false;
    if (broken || forgotten || !store) return;
    const point = session.resumePoint();
    const [entries, lastSeq] = outbox.kept();
    const state: PersistedState | null =
      point || entries.length > 0
        ? {
            user,
            entries: entries.map(({ frame, expiresAt }) => (expiresAt === undefined ? { frame } : { frame, expiresAt })),
            lastSeq,
            ...(point ? { session: point } : {}),
            savedAt: Date.now(),
          }
        : null;
    const s = store;
    writing = writing.then(() => (state ? s.save(key, state) : s.remove(key))).catch(fail);
  };
  const persisted: PersistedSession = {
    skip: settings.resume === 'skip' && kept?.session !== undefined,
    changed() {
      if (scheduled || broken || forgotten) return;
      scheduled = true;
      queueMicrotask(write);
    },
    async forget() {
      forgotten = true;
      await writing;
      try {
        await store?.remove(key);
      } catch (error) {
        fail(error);
      }
    },
  };
  persisted.changed(); // what this page accepted before the read goes in too
  return persisted;
}

/**
 * The key of this tab's state: the client's URL and a random id kept in the tab's sessionStorage (which a reload and
 * a way back keep, and other tabs do not share), so that two tabs of one app never resume each other's session.
 */
export function persistKey(endpoint: string, storage: Pick<Storage, 'getItem' | 'setItem'> | null): string {
  const name = 'realtime-fallback.tab';
  let tab = '';
  try {
    tab = storage?.getItem(name) ?? '';
    if (!tab && storage) {
      tab = newJoinKey() ?? Math.random().toString(36).slice(2); // a random id, as a join key is
      storage.setItem(name, tab);
    }
  } catch {
    tab = ''; // storage disabled: tabs of this origin share one key
  }
  return `${endpoint}#${tab}`;
}

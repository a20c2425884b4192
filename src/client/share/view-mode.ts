import type { TypedEmitter } from '../emitter';
import type { LifecycleEvents } from '../lifecycle';
import type { ClientMode, ModeSettings } from '../mode/mode';
import type { ResolvedOptions } from '../options';
import { localPlatform } from './local-platform';
import { TabLink } from './tab-link';
import { browserPlatform, TabShare, type SharePlatform } from './tab-share';

/**
 * The mode of a sharing tab's own client: its one "transport" is the link to the leading tab. `leading` are the
 * options the leader's connection uses (the client's own, as given). Without BroadcastChannel or Web Locks the tab
 * leads a group of one (in-memory channel and lock): it connects by itself, and the `share` event says so.
 */
export function createViewMode(settings: ModeSettings, leading: ResolvedOptions, life: TypedEmitter<LifecycleEvents>, platform?: SharePlatform): ClientMode {
  const name = `realtime-fallback share ${typeof leading.share === 'string' ? leading.share : settings.endpoint}`;
  const g = globalThis as { BroadcastChannel?: unknown; navigator?: { locks?: unknown } };
  const missing = platform ? null : typeof g.BroadcastChannel !== 'function' ? 'BroadcastChannel' : g.navigator?.locks ? null : 'Web Locks';
  const alone = missing ? `this browser has no ${missing}: this tab connects by itself` : null;
  let share: TabShare | null = null;
  life.on('close', () => {
    share?.close();
    share = null; // a later connect() joins afresh
  });
  return {
    requests: true,
    probes: false,
    refusalMeansUnavailable: false,
    url: () => settings.endpoint,
    // Nothing to send: the link tells the leader where this tab is.
    handshake: () => ({ query: {}, hidden: {} }),
    // Joins the group on the first connect (not in the constructor: `autoConnect: false` stays quiet until asked).
    prepare: () => {
      share ??= new TabShare(settings.endpoint, name, leading, life, platform ?? (alone ? localPlatform() : browserPlatform()), alone);
      return null;
    },
    createTransport: (_name, params) => new TabLink(share, params.handlers), // null: closed meanwhile
    livenessLimitMs: () => 0,
    reopenDelayMs: () => undefined,
  };
}

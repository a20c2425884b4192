import type { TypedEmitter } from '../emitter';
import type { LifecycleEvents } from '../lifecycle';
import type { ClientMode, ModeSettings } from '../mode/mode';
import { overrideOptions, type OptionOverrides, type ResolvedOptions } from '../options';
import type { SharePlatform } from './tab-share';
import { createViewMode } from './view-mode';

/** The mode of a client created with `share` (see shared-client.ts), and the settings it needs of the client. */
export interface ShareMode {
  /** What this tab's own client uses instead of the options given, as data. */
  readonly overrides: OptionOverrides;
  /** The options of this tab's own client: the ones given with `overrides`, in a new frozen object (options.ts). */
  linkOptions(given: ResolvedOptions): ResolvedOptions;
  /** `leading`: the options as given, which the leading tab's connection uses. */
  create(settings: ModeSettings, leading: ResolvedOptions, life: TypedEmitter<LifecycleEvents>): ClientMode;
}

/**
 * The leading tab connects with the options as given; this tab's own client talks only to the leader: one link, no
 * race, nothing remembered, no credentials, and patient while a leader is found. `platform`: BroadcastChannel and
 * Web Locks to use instead of the browser's (tests).
 */
export function shareModeOn(platform?: () => SharePlatform): ShareMode {
  return {
    overrides: {
      // A link to the leader is local: the tab's client links again within 25 ms when the leader says `down`, and
      // backs off from there should it keep failing.
      backoff: { initialMs: 25 },
      transports: ['websocket'],
      raceAfterMs: 0,
      storage: null,
      rememberTransportMs: 0,
      openTimeoutMs: { websocket: 30_000, sse: 30_000, polling: 30_000 },
      // No `auth`: only the leader's connection presents credentials (and asks again after a refusal).
      auth: undefined,
    },
    linkOptions(given) {
      return overrideOptions(given, this.overrides);
    },
    create: (settings, leading, life) => createViewMode(settings, leading, life, platform?.()),
  };
}

export const shareMode: ShareMode = shareModeOn();

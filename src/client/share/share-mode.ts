import type { TypedEmitter } from '../emitter';
import type { LifecycleEvents } from '../lifecycle';
import type { ClientMode, ModeSettings } from '../mode/mode';
import type { ResolvedOptions } from '../options';
import type { SharePlatform } from './tab-share';
import { createViewMode } from './view-mode';

/** Makes the mode of a client created with `share` (see shared-client.ts). */
export type ShareModeFactory = (settings: ModeSettings, opts: ResolvedOptions, life: TypedEmitter<LifecycleEvents>) => ClientMode;

/**
 * The leading tab connects with the options as given; this tab's own client talks only to the leader: one link, no
 * race, nothing remembered, no credentials, and patient while a leader is found. (Changed here, before the client's
 * connector is made from them; the object is the client's own copy, never the caller's.) `platform`: BroadcastChannel
 * and Web Locks to use instead of the browser's (tests).
 */
export function shareModeOn(platform?: () => SharePlatform): ShareModeFactory {
  return (settings, opts, life) => {
    const leading = { ...opts, backoff: { ...opts.backoff } };
    // A link to the leader is local: the tab's client links again within 25 ms when the leader says `down`, and
    // backs off from there should it keep failing (the client's scheduler holds this very policy object, made before
    // the mode, hence changed in place).
    opts.backoff.initialMs = 25;
    // No `auth`: only the leader's connection presents credentials (and asks again after a refusal).
    Object.assign(opts, {
      transports: ['websocket'],
      raceAfterMs: 0,
      storage: null,
      rememberTransportMs: 0,
      openTimeoutMs: { websocket: 30_000, sse: 30_000, polling: 30_000 },
      auth: undefined,
    });
    return createViewMode(settings, leading, life, platform?.());
  };
}

export const shareMode: ShareModeFactory = shareModeOn();

import type { RealtimeError, RealtimeErrorCode } from './errors';
import { TypedEmitter } from './emitter';
import type { LifecycleEvents } from './lifecycle';
import type { Logger } from './types';

/**
 * The client's lifecycle emitter. An `error` that no `error` listener hears is reported the way an unhandled promise
 * rejection is: once per code for this client, to the app's logger if it gave one, else to `console.error`, so a
 * misconfiguration (`origin_rejected`, `unauthorized`, a server that is not there) is never silent. Only an `error`
 * listener counts as hearing it: a `close` listener hears only the errors that end the client, and most are written
 * for the normal close.
 */
export class LifecycleEmitter extends TypedEmitter<LifecycleEvents> {
  private readonly reported = new Set<RealtimeErrorCode>();

  constructor(
    onListenerError: (error: unknown, event: string) => void,
    /** The app's own logger (`logger` option), when it gave one. */
    private readonly logger: Logger | undefined,
  ) {
    super(onListenerError);
  }

  override emit<K extends keyof LifecycleEvents>(event: K, payload: LifecycleEvents[K]): void {
    const heard = event !== 'error' || this.listenerCount('error') > 0;
    super.emit(event, payload);
    if (!heard) this.unheard(payload as RealtimeError);
  }

  private unheard(error: RealtimeError): void {
    if (this.reported.has(error.code)) return;
    this.reported.add(error.code);
    const note = `unhandled ${error.code} (reported once per code; handle it with client.lifecycle.on('error', ...))`;
    // The console prints the error itself (message and stack); a logger may print only the text.
    if (this.logger) this.logger('error', `${note}: ${error.message}`, { error });
    else (globalThis as { console?: { error(...a: unknown[]): void } }).console?.error(`realtime-fallback: ${note}:`, error);
  }
}

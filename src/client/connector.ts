import type { ServerFrame, TransportName, WelcomeFrame } from '../protocol/frames';
import type { TransportFailure } from '../transports/transport';
import { createAttemptWindow } from './attempt-window';
import { prepareAttempt, openAttempt } from './attempt';
import { closeConnection, type Connection, type ConnectionHandlers, type ConnectionSettings } from './connection';
import type { TypedEmitter } from './emitter';
import { RealtimeError } from './errors';
import { classifyFailure } from './failure-policy';
import { FallbackWalk } from './fallback-walk';
import { frameProblem, type SessionFrame } from './frame-check';
import type { LifecycleEvents } from './lifecycle';
import { createLiveness } from './liveness';
import { createPageSignals } from './page-signals';
import type { AuthCredentials } from './types';
import { createRace } from './race';
import { recallTransport, rememberTransport } from './transport-memory';
import type { Connector, ConnectorHost, ConnectorOptions } from './connector-types';
import type { WelcomeHold } from './welcome-hold';

/**
 * The attempt loop (connector-types.ts, `Connector`): opens attempts (attempt.ts) with racers alongside (race.ts),
 * checks what arrives (frame-check.ts), and after a failure decides (failure-policy.ts, then the fallback walk) whether
 * and when to try again, and where, following the page (page-signals.ts).
 */
export function createConnector(
  settings: ConnectionSettings,
  options: ConnectorOptions,
  endpoint: string,
  life: TypedEmitter<LifecycleEvents>,
  host: ConnectorHost,
): Connector {
  // State in closures rather than fields: the minifier shortens these names, it cannot shorten properties.
  const { scheduler, mode } = settings;
  const { transports, storage, auth, logger } = options;
  /** Judges contested welcomes; loaded with the first racer (nothing can be contested before). */
  let hold: WelcomeHold | null = null;
  const avoided = (name: TransportName): boolean => hold?.avoided(name) ?? false;
  const walk = new FallbackWalk(transports.length, options.retriesPerTransport, (attempt) => scheduler.backoff(attempt), (i) => avoided(transports[i]!));
  const liveness = createLiveness(scheduler, () => mode.livenessLimitMs());
  const attemptWindow = createAttemptWindow();
  let active: Connection | null = null;
  /** Bumped whenever pending async work (auth calls) must be ignored. */
  let attempts = 0;
  let retriesSinceOpen = 0;
  let authRefreshed = false;
  let everOpened = false;
  /** Why each transport failed since the walk last began, for the one `transport_failed` error per failed walk. */
  let walkFailures: string[] = [];
  const handlers: ConnectionHandlers = { frame: onFrame, failure: (conn, failure) => fail(conn, failure) };

  const credentials = async (): Promise<AuthCredentials> => (auth ? await auth() : {});
  /** True when the client was closed or another attempt started while this one awaited something. */
  const superseded = (attempt: number): boolean => attempt !== attempts || host.state === 'closed';
  const race = createRace(settings, options.raceAfterMs, attemptWindow, life, handlers, {
    get active() {
      return active;
    },
    get attempt() {
      return attempts;
    },
    superseded,
    credentials,
    avoided,
    async loadHold() {
      hold ??= (await import('./welcome-hold')).createWelcomeHold(scheduler, options.raceAfterMs, { fresh: win, stale: (conn, failure) => fail(conn, failure) });
    },
  });
  const racers = race.racers;
  /** Closes every attempt racing the active one. */
  const dropRacers = (): void => {
    hold?.clear();
    race.stop();
  };
  const connecting = (): boolean => host.state === 'connecting' || host.state === 'reconnecting';

  async function connect(): Promise<void> {
    page.cancelRetry();
    // No online check here: an attempt is always worth one try (browsers can report offline wrongly at start-up);
    // it is the retries that wait for `online` (retry).
    const attempt = ++attempts;
    const name = transports[walk.index]!;
    const creds = await prepareAttempt(settings, name, {
      credentials,
      stale: () => superseded(attempt),
      before: (c) => host.prepare(c),
      unusable() {
        if (walk.index === transports.length - 1) return true; // the last one: its refusal is the answer
        // Trying would only be refused (401), and the refusal would end the client: move on to a transport that can.
        const reason = `${name} cannot send the credential (auth returned headers and no token)`;
        logger('warn', `${reason}; skipped`);
        walkFailures.push(reason);
        const next = walk.unusable();
        retry(next.delayMs, reason, next.kind === 'next' ? name : undefined);
        return false;
      },
      authFailed(cause) {
        life.emit('error', new RealtimeError('unauthorized', 'the auth provider failed; retrying', { cause }));
        retry(walk.pause(), 'auth provider failed');
      },
      loadFailed(cause) {
        // The chunk did not download (the network that failed WebSocket may be failing everything): try again later.
        logger('warn', `could not load the ${name} transport`, { error: cause });
        retry(walk.pause(), `could not load the ${name} transport`);
      },
    });
    if (!creds) return;
    active = openAttempt(settings, name, creds, handlers, attemptWindow);
    race.begin(walk.index);
  }

  function onFrame(conn: Connection, frame: ServerFrame): void {
    if (hold?.holds(conn)) return hold.frame(conn, frame);
    const problem = frameProblem(conn.opened, frame);
    if (conn !== active) {
      if (!racers.includes(conn)) return; // a replaced transport's late callback
      if (problem) return fail(conn, problem as TransportFailure); // not open yet: every problem is a failure
    }
    if (frame.t === 'welcome' && !conn.opened && racers.length > 0 && hold) {
      // Contested: the first welcome wins, unless its connection ends in the same turn (welcome-hold.ts).
      conn.cancelOpenTimer();
      return hold.hold(conn, frame);
    }
    if (frame.t === 'close' && frame.code === 'replaced' && staleWin(conn)) return;
    liveness.heard();
    if (options.debug) logger('debug', `${conn.name} ← ${frame.t}`);
    if (problem instanceof RealtimeError) return life.emit('error', problem);
    if (problem) return fail(conn, problem);
    if (frame.t === 'welcome') return open(conn, frame);
    if (frame.t !== 'ping' && frame.t !== 'echo') host.received(conn, frame as SessionFrame); // an error frame returned above
  }

  /** A contested welcome passed its hold: its connection leads from now on, and every other attempt stops. */
  function win(conn: Connection, welcome: WelcomeFrame, after: ServerFrame[]): void {
    if (conn !== active) {
      if (!racers.includes(conn)) return;
      race.take(conn);
      closeConnection(active!);
      active = conn;
      walk.raced(transports.indexOf(conn.name));
    }
    hold?.won(conn);
    liveness.heard();
    if (options.debug) logger('debug', `${conn.name} ← welcome`);
    open(conn, welcome);
    for (const frame of after) if (active === conn) onFrame(conn, frame);
  }

  /** A race winner replaced right after it opened, again: its welcomes are stale (welcome-hold.ts). True when so. */
  function staleWin(conn: Connection, failure?: TransportFailure): boolean {
    const stale = hold?.staleWinner(conn, failure);
    if (!stale) return false;
    fail(conn, stale);
    return true;
  }

  function open(conn: Connection, welcome: WelcomeFrame): void {
    dropRacers();
    conn.cancelOpenTimer();
    conn.opened = true;
    walkFailures = [];
    host.welcomed(welcome);
    walk.opened();
    retriesSinceOpen = 0;
    authRefreshed = false;
    everOpened = true;
    host.opened(conn, welcome, walk.reason);
  }

  function fail(conn: Connection, failure: TransportFailure, immediate = false): void {
    if (hold?.holds(conn)) return hold.failed(conn, failure);
    if (conn !== active) return failRacer(conn, failure);
    if (conn.opened && failure.kind === 'network' && staleWin(conn, failure)) return;
    active = null;
    liveness.stop();
    host.lost(conn, failure);
    ended(conn, failure);
    if (host.state === 'closed') return; // a listener closed the client
    if (conn.opened) host.setState('reconnecting');

    const httpTransportNext = conn.name === 'websocket' && !conn.opened && walk.index < transports.length - 1;
    let decision = classifyFailure(failure, auth !== undefined && !authRefreshed, httpTransportNext);
    // A plain server that refuses a transport it has no route for does not offer it: the walk moves on.
    if (mode.refusalMeansUnavailable && !conn.opened && decision.action === 'stop' && decision.error.code === 'rejected') decision = { action: 'retry' };
    if (racers.length > 0 && decision.action !== 'stop') {
      // Attempts started alongside it go on: the oldest leads now, as the walk's next step would have.
      walkFailures.push(`${conn.name}: ${failure.message}`);
      active = racers[0]!;
      race.take(active);
      walk.raced(transports.indexOf(active.name));
      return;
    }
    switch (decision.action) {
      case 'stop':
        return host.stop(decision.error);
      case 'refresh_auth':
        authRefreshed = true;
        return retry(0, 'refreshing the credential');
      case 'wait':
        return retry(decision.delayMs, `server asked to retry after ${decision.delayMs} ms`);
    }
    if (immediate) {
      if (conn.opened) walk.reason = 'connect';
      return retry(0, failure.message);
    }
    const step = failure.kind === 'buffered' ? walk.buffered() : walk.failed(conn.opened, conn.silent);
    walkFailures.push(`${conn.name}: ${failure.message}`);
    if (step.kind === 'round') {
      // Every transport failed: said once per walk (the steps of a walk are not errors of their own).
      life.emit('error', new RealtimeError('transport_failed', `every transport failed (${walkFailures.join('; ')}); retrying in ${step.delayMs} ms`));
      walkFailures = [];
    }
    switch (step.kind) {
      case 'reopen':
        return retry(mode.reopenDelayMs(conn.name) ?? step.delayMs, failure.message);
      case 'retry':
        return retry(step.delayMs, failure.message);
      case 'next':
        return retry(0, `${conn.name} failed: ${failure.message}`, conn.name);
      case 'round':
        return retry(step.delayMs, `every transport failed; last: ${failure.message}`);
    }
  }

  /** Closes a failed connection and says so (log, `transportFailed`). */
  function ended(conn: Connection, failure: TransportFailure): void {
    closeConnection(conn);
    logger('warn', `${conn.name} ${conn.opened ? 'dropped' : 'failed'}: ${failure.message}`, { failure });
    life.emit('transportFailed', { transport: conn.name, opened: conn.opened, probe: false, failure });
  }

  /** An attempt racing the active one failed: it drops out; when it was the newest, the next need not wait. */
  function failRacer(conn: Connection, failure: TransportFailure): void {
    if (!race.failed(conn)) return;
    ended(conn, failure);
    walkFailures.push(`${conn.name}: ${failure.message}`);
  }

  /**
   * Schedules the next attempt, never sooner than the attempt window allows; `from`: it only moves the walk on from
   * that transport (a `fallback`, not a retry).
   */
  function retry(asked: number, reason: string, from?: TransportName): void {
    page.cancelRetry();
    if (host.state === 'closed') return;
    const delayMs = Math.max(asked, attemptWindow.wait(scheduler.now()));
    const to = transports[walk.index]!;
    if (from !== undefined) life.emit('fallback', { from, to, reason });
    else life.emit('reconnecting', { attempt: ++retriesSinceOpen, delayMs, transport: to, reason });
    page.retryIn(delayMs);
  }

  const page = createPageSignals(scheduler, {
    connecting,
    open: () => host.state === 'open',
    inFlight: () => active !== null,
    connect: () => void connect(),
    checkSilence() {
      const conn = active;
      const overdue = conn?.opened ? liveness.overdue() : null;
      if (conn && overdue) fail(conn, { kind: 'network', message: `silent for ${overdue.silentMs} ms while the page was hidden` }, true);
    },
    park() {
      attempts++; // an auth call or a chunk still loading starts nothing
      dropRacers();
      liveness.stop();
      const conn = active;
      active = null;
      if (!conn) return;
      host.lost(conn, { kind: 'network', message: 'the page went into the back/forward cache' });
      closeConnection(conn);
      if (conn.opened) {
        walk.reason = 'connect';
        host.setState('reconnecting');
      }
    },
    unpark: () => retry(0, 'the page came back from the back/forward cache'),
  });

  return {
    get active() {
      return active;
    },
    get attempt() {
      return attempts;
    },
    handlers,
    credentials,
    start() {
      page.watch();
      const remembered = recallTransport(storage, endpoint, scheduler.now());
      walk.start(remembered ? transports.indexOf(remembered) : -1);
      authRefreshed = false;
      retriesSinceOpen = 0;
      host.setState(everOpened ? 'reconnecting' : 'connecting');
      void connect();
    },
    stop() {
      attempts++;
      const conn = active;
      active = null;
      conn?.transport.close();
      dropRacers();
      liveness.stop();
      page.stop();
    },
    remember(name) {
      rememberTransport(storage, endpoint, name, name === transports[0], options.rememberTransportMs, scheduler.now());
    },
    watchLiveness() {
      liveness.watch((silentMs, limitMs) => {
        const conn = active;
        if (conn?.opened) fail(conn, { kind: 'network', message: `no heartbeat for ${silentMs} ms (limit ${limitMs} ms)` });
      });
    },
    replaceWith(probe) {
      const previous = active;
      active = probe;
      walk.moveTo(transports.indexOf(probe.name)); // a later drop reopens this one, not the fallback
      if (previous) closeConnection(previous);
      liveness.heard();
    },
    fail,
  };
}

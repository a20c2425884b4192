/** What a fuzz input family is: a maker of inputs, each described before it runs (so a crash names it). */
import type { Rand } from './rand';
import type { Outcome, Target, Welcome } from './wire';

export interface Context {
  target: Target;
  /** Session ids of the good clients (ids are not credentials: an attacker may learn them). */
  goodSids(): string[];
  /** Sessions fuzz inputs opened lately (some still live), for inputs that abuse another session. */
  fuzzSessions: Welcome[];
  /** Keeps a session for later inputs (bounded). */
  remember(w: Welcome): void;
}

export interface Input {
  /** What is sent, short enough to print, specific enough to send again by hand. */
  describe: string;
  run(): Promise<Outcome>;
}

export interface Family {
  name: string;
  /** Relative share of the inputs. */
  weight: number;
  make(r: Rand, ctx: Context): Input;
}

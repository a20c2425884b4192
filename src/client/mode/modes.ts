import type { ModeKind } from './mode';
import { PLAIN_MODE } from './plain-mode';
import { PROTOCOL_MODE } from './protocol-mode';

/** The modes by the value of the `protocol` option: the one place that maps it to behaviour. */
export const MODES: Readonly<Record<'realtime-fallback' | 'plain', ModeKind>> = {
  'realtime-fallback': PROTOCOL_MODE,
  plain: PLAIN_MODE,
};

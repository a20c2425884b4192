import { RealtimeError } from './errors';

/** The error every invalid option gets. */
export const invalid = (message: string): RealtimeError => new RealtimeError('invalid_argument', message);

export function nonNegative(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalid(`option ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

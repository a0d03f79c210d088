// The latest progress of each operation, fed by the operationEvents and
// operationProgress subscriptions. Rates and time left come from the server (the
// engine measures them once); nothing is computed here.
import { useSyncExternalStore } from 'react';
import type { ProgressFieldsFragment } from '../gql/graphql';

export type Progress = ProgressFieldsFragment;

export interface LiveEntry {
  progress: Progress;
  rate: number | null;
  receivedAt: number;
}

const entries = new Map<string, LiveEntry>();
const listeners = new Set<() => void>();
let snapshot: ReadonlyMap<string, LiveEntry> = new Map();

function emit() {
  snapshot = new Map(entries);
  for (const l of listeners) l();
}

export function recordProgress(p: Progress, at = Date.now()): void {
  const previous = entries.get(p.operationId);
  // Never go backwards (a late event or a snapshot after newer live events).
  if (previous && Date.parse(previous.progress.updatedAt) > Date.parse(p.updatedAt)) return;
  entries.set(p.operationId, { progress: p, rate: p.filesPerSecond ?? null, receivedAt: at });
  emit();
}

export function forgetProgress(operationId: string): void {
  if (entries.delete(operationId)) emit();
}

export function clearProgress(): void {
  entries.clear();
  emit();
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useLiveProgress(): ReadonlyMap<string, LiveEntry> {
  return useSyncExternalStore(subscribe, () => snapshot);
}

export function useOperationProgress(id: string): LiveEntry | undefined {
  return useLiveProgress().get(id);
}

/** The engine's percentage, as it sent it: the bar, the label and the counts come from
 * the same event, so they agree in every phase. */
export function progressPercent(p: Pick<Progress, 'percent'>): number | null {
  return p.percent ?? null;
}

// The latest progress of each operation, fed by the operationEvents and
// operationProgress subscriptions, with a client-side files/s rate.
import { useSyncExternalStore } from 'react';
import type { ProgressFieldsFragment } from '../gql/graphql';
import { RateMeter } from '../lib/rate';

export type Progress = ProgressFieldsFragment;

export interface LiveEntry {
  progress: Progress;
  rate: number | null;
  receivedAt: number;
}

const entries = new Map<string, LiveEntry>();
const meters = new Map<string, RateMeter>();
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
  let meter = meters.get(p.operationId);
  if (!meter) {
    meter = new RateMeter();
    meters.set(p.operationId, meter);
  }
  meter.add(p, at);
  entries.set(p.operationId, { progress: p, rate: meter.rate(), receivedAt: at });
  emit();
}

export function forgetProgress(operationId: string): void {
  if (entries.delete(operationId)) emit();
  meters.delete(operationId);
}

export function clearProgress(): void {
  entries.clear();
  meters.clear();
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

export function progressPercent(p: Pick<Progress, 'percent' | 'status' | 'filesTotal' | 'filesProcessed' | 'filesSkipped'>): number | null {
  if (p.status === 'COMPLETED') return 100;
  if (p.percent != null) return p.percent;
  if (p.filesTotal) return ((p.filesProcessed + p.filesSkipped) / p.filesTotal) * 100;
  return null;
}

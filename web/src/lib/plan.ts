// Shapes a dry run's records for review.
import { normalizePath, parentPath } from './format';

export interface PlanRecord {
  id: string;
  originalPath: string;
  newPath?: string | null;
  fileName: string;
  fileSizeBytes: number;
  category?: string | null;
  isDuplicate: boolean;
  status: string;
  errorMessage?: string | null;
}

export interface PlanGroup<R extends PlanRecord = PlanRecord> {
  /** The destination folder ("" = root), or "Left in place". */
  folder: string;
  category: string | null;
  records: R[];
  bytes: number;
}

/** A record that would move somewhere else. */
export function willMove(r: PlanRecord): boolean {
  return (
    !!r.newPath &&
    normalizePath(r.newPath) !== normalizePath(r.originalPath) &&
    r.status !== 'SKIPPED' &&
    r.status !== 'FAILED' &&
    r.status !== 'KEPT'
  );
}

export const STAYS = 'Stays where it is';

/**
 * Groups an organize plan by destination folder, biggest groups first; records that
 * stay (skipped, already in place) come last under STAYS.
 */
export function groupByDestination<R extends PlanRecord>(records: R[]): PlanGroup<R>[] {
  const groups = new Map<string, PlanGroup<R>>();
  for (const r of records) {
    const folder = willMove(r) ? parentPath(r.newPath ?? '') : STAYS;
    let g = groups.get(folder);
    if (!g) {
      g = { folder, category: willMove(r) ? (r.category ?? null) : null, records: [], bytes: 0 };
      groups.set(folder, g);
    }
    g.records.push(r);
    g.bytes += r.fileSizeBytes;
    if (g.category !== (r.category ?? null)) g.category = null; // mixed categories
  }
  return [...groups.values()].sort((a, b) => {
    if (a.folder === STAYS) return 1;
    if (b.folder === STAYS) return -1;
    return b.records.length - a.records.length || a.folder.localeCompare(b.folder);
  });
}

export interface DuplicateGroupLike<R extends PlanRecord = PlanRecord> {
  hash: string;
  sizeBytes: number;
  kept?: R | null;
  files: R[];
}

export interface DuplicateSummary {
  groups: number;
  extraCopies: number;
  bytesFreed: number;
}

/** The copies that go to the trash: every file of the group but the kept one. */
export function trashedCopies<R extends PlanRecord>(group: DuplicateGroupLike<R>): R[] {
  const keptId = group.kept?.id;
  return group.files.filter((f) => f.id !== keptId && f.status !== 'KEPT' && (f.isDuplicate || keptId !== undefined));
}

export function summarizeDuplicates(groups: DuplicateGroupLike[]): DuplicateSummary {
  let extraCopies = 0;
  let bytesFreed = 0;
  for (const g of groups) {
    const extra = trashedCopies(g).length;
    extraCopies += extra;
    bytesFreed += extra * g.sizeBytes;
  }
  return { groups: groups.length, extraCopies, bytesFreed };
}

/** Bars for a chart: each value as a share of the largest (0–100). */
export function barShares<T>(items: T[], value: (item: T) => number): { item: T; share: number }[] {
  const max = Math.max(0, ...items.map(value));
  return items.map((item) => ({ item, share: max > 0 ? (value(item) / max) * 100 : 0 }));
}

/** Splits a comma- or newline-separated list typed into a text field. */
export function parseList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

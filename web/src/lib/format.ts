// Formatting of sizes, times, rates. Sizes are decimal (kB = 1000 B) like the quota (GB = 10^9 B).

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value >= 100 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, '')} ${UNITS[unit]}`;
}

export function formatCount(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

const TIER_LABELS: Record<string, string> = {
  FREE: 'Free',
  PERSONAL: 'Personal',
  PRO: 'Pro',
  BUSINESS: 'Business',
};
/** A subscription tier as people read it ("PRO" → "Pro"). */
export function tierLabel(tier: string): string {
  return TIER_LABELS[tier] ?? tier;
}

/** "3 s", "2 min 5 s", "1 h 4 min". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

export function durationBetween(start: string | null | undefined, end: string | null | undefined): number | null {
  if (!start || !end) return null;
  const d = Date.parse(end) - Date.parse(start);
  return Number.isFinite(d) ? d : null;
}

export function formatRate(filesPerSecond: number | null | undefined): string {
  if (filesPerSecond == null || !Number.isFinite(filesPerSecond)) return '—';
  if (filesPerSecond >= 100) return `${Math.round(filesPerSecond).toLocaleString('en-US')} files/s`;
  if (filesPerSecond >= 10) return `${filesPerSecond.toFixed(0)} files/s`;
  return `${filesPerSecond.toFixed(1)} files/s`;
}

export function formatPercent(p: number | null | undefined): string {
  if (p == null || !Number.isFinite(p)) return '—';
  return `${Math.floor(Math.min(100, Math.max(0, p)))} %`;
}

const TYPE_LABELS: Record<string, string> = {
  ORGANIZE: 'Organize',
  DUPLICATE_CLEANUP: 'Duplicate cleanup',
  ROLLBACK: 'Rollback',
  MOVE: 'Move',
  DELETE: 'Delete',
  RESTORE: 'Restore',
};
export function operationTypeLabel(type: string): string {
  return TYPE_LABELS[type] ?? type;
}

const STATUS_LABELS: Record<string, string> = {
  PENDING: 'Pending',
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
};
export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status;
}

const PHASE_LABELS: Record<string, string> = {
  QUEUED: 'Queued',
  SCANNING: 'Scanning',
  HASHING: 'Hashing',
  MOVING: 'Moving',
  FINISHING: 'Finishing',
  DONE: 'Done',
};
export function phaseLabel(phase: string): string {
  return PHASE_LABELS[phase] ?? phase;
}

/** Root shown as "All files". */
export function folderLabel(path: string): string {
  const p = normalizePath(path);
  return p === '' ? 'All files' : p;
}

/** "", "/", "." → ""; strips leading/trailing slashes. */
export function normalizePath(path: string | null | undefined): string {
  if (!path) return '';
  const p = path.replace(/^\/+|\/+$/g, '');
  return p === '.' ? '' : p;
}

export function joinPath(...parts: (string | null | undefined)[]): string {
  return parts
    .map((p) => normalizePath(p))
    .filter((p) => p !== '')
    .join('/');
}

export function parentPath(path: string): string {
  const p = normalizePath(path);
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function baseName(path: string): string {
  const p = normalizePath(path);
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

export interface Crumb {
  label: string;
  path: string;
}
export function breadcrumbs(path: string): Crumb[] {
  const p = normalizePath(path);
  const crumbs: Crumb[] = [{ label: 'All files', path: '' }];
  if (!p) return crumbs;
  let acc = '';
  for (const part of p.split('/')) {
    acc = acc ? `${acc}/${part}` : part;
    crumbs.push({ label: part, path: acc });
  }
  return crumbs;
}

export function isActiveStatus(status: string): boolean {
  return status === 'PENDING' || status === 'RUNNING';
}

// The upload queue: every file picked or dropped, in batches (one folder each, at most
// 100 files or ~32 MB), sent a few at a time, each request abortable. Its bookkeeping
// is plain objects mutated in place, outside React: the UI reads a snapshot rebuilt at
// most every `notifyMs` (useSyncExternalStore), and rows of the file list read the
// files they show directly (`fileAt`), so progress events cost no re-render of 5,000
// rows.
//
// The queue does not know HTTP: `send` (see transport.ts) sends one batch and
// says how it went. Tests give it a fake.

import type { FriendlyError } from '../../api/errors';
import { joinPath, parentPath } from '../../lib/format';
import { MAX_BATCH_BYTES, MAX_BATCH_FILES, type PickedFile } from './upload';

export type FileState = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';
export type BatchState = 'queued' | 'uploading' | 'waiting' | 'done' | 'failed' | 'cancelled';

export interface QueuedFile {
  readonly id: number;
  readonly job: Job;
  readonly file: File;
  /** Path below the job's target folder: "photos/2024/a.jpg". */
  readonly relativePath: string;
  readonly size: number;
  readonly batch: Batch;
  state: FileState;
  /** Where this file's bytes start in its batch's request (while it is sent). */
  offset: number;
}

export interface Batch {
  readonly id: number;
  readonly job: Job;
  /** The folder the batch goes into. */
  readonly path: string;
  readonly files: QueuedFile[];
  /** Bytes of its files. */
  bytes: number;
  state: BatchState;
  /** Payload bytes of the request in flight that have been sent. */
  loaded: number;
  /** Payload bytes of the request in flight. */
  sending: number;
  controller: AbortController | null;
  /** Set when a file of the request in flight was cancelled: send the rest again. */
  resend: boolean;
  /** Rate-limited answers waited out so far. */
  waits: number;
  errors: FriendlyError[];
}

export interface Job {
  readonly id: number;
  /** The folder the files were picked or dropped into. */
  readonly path: string;
  /** "trip" for a folder, "report.pdf" for one file, "12 files" otherwise. */
  readonly label: string;
  readonly files: QueuedFile[];
  readonly batches: Batch[];
  bytes: number;
  /** The folders its batches go into. */
  readonly targets: string[];
  /** Files announced when it began (more may still be coming in: `intake`). */
  readonly expected: number;
  /** Files are still being added (read from the pick, a slice at a time). */
  intake: boolean;
  cancelled: boolean;
  /** Batches still filling, by folder: sent once full (or when the intake ends). */
  readonly open: Map<string, Batch>;
}

/** How one request went. */
export type SendResult =
  | { kind: 'ok' }
  | { kind: 'rate-limited'; retryAfter?: number }
  /** `fatal`: later batches would fail the same way (storage full, signed out). */
  | { kind: 'failed'; errors: FriendlyError[]; fatal?: boolean };

export interface SendRequest {
  path: string;
  files: File[];
  signal: AbortSignal;
  /** Bytes of the request body sent so far, of `total`. */
  onProgress: (loaded: number, total: number) => void;
}

export type Send = (request: SendRequest) => Promise<SendResult>;

export interface QueueOptions {
  send: Send;
  /** Requests in flight at once. */
  concurrency?: number;
  maxFiles?: number;
  maxBytes?: number;
  /** Rate-limited answers waited out per batch before it fails. */
  maxWaits?: number;
  /** Longest wait after a rate-limited answer, in seconds. */
  maxWaitSeconds?: number;
  /** Snapshots are rebuilt (and listeners told) at most this often. */
  notifyMs?: number;
  /** Waits `ms` unless `signal` aborts first (tests pass a fake clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A batch landed: its files are stored in `path`. */
  onLanded?: (path: string, files: number) => void;
  /** A job ended (nothing of it queued or in flight any more). */
  onJobSettled?: (job: JobSummary) => void;
}

export type JobStatus = 'active' | 'done' | 'failed' | 'cancelled';

export interface JobSummary {
  id: number;
  path: string;
  label: string;
  /** The folders its files go into. */
  targets: string[];
  files: number;
  bytes: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Bytes stored plus bytes of requests in flight already sent. */
  sentBytes: number;
  /** Files waiting for a rate-limited request to be retried. */
  waiting: number;
  /** Files picked, listed or not yet. */
  expected: number;
  /** Still reading the picked files (their sizes). */
  preparing: boolean;
  status: JobStatus;
  errors: FriendlyError[];
}

export interface QueueSnapshot {
  /** Increases with every snapshot: rows that read files directly re-render on it. */
  version: number;
  /** Newest first. */
  jobs: JobSummary[];
  /** Files listed (rows of the file list). */
  files: number;
  bytes: number;
  sentBytes: number;
  done: number;
  failed: number;
  cancelled: number;
  /** Files queued or in flight. */
  pending: number;
  /** Requests in flight. */
  inFlight: number;
  /** Whether anything is queued or in flight. */
  active: boolean;
  /** The first row being sent (else the first waiting), -1 for none: where to look. */
  followRow: number;
}

const EMPTY: QueueSnapshot = {
  version: 0,
  jobs: [],
  files: 0,
  bytes: 0,
  sentBytes: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
  pending: 0,
  inFlight: 0,
  active: false,
  followRow: -1,
};

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** "trip" when every file is in one top folder, the name of a single file, else "N files". */
export function jobLabel(files: PickedFile[]): string {
  if (files.length === 0) return 'nothing';
  const top = (p: string) => (p.includes('/') ? p.slice(0, p.indexOf('/')) : null);
  const first = top(files[0].relativePath);
  if (first && files.every((f) => top(f.relativePath) === first)) return first;
  if (files.length === 1) return files[0].relativePath;
  return `${files.length.toLocaleString('en-US')} files`;
}

/** Files in path order (code units, fast for 50,000 names). */
export function sortByPath(files: PickedFile[]): PickedFile[] {
  return files.slice().sort((a, b) => (a.relativePath < b.relativePath ? -1 : a.relativePath > b.relativePath ? 1 : 0));
}

/** A file's share of its batch's request sent so far (0–1). */
export function fileProgress(f: QueuedFile): number {
  if (f.state === 'done') return 1;
  if (f.state !== 'uploading') return 0;
  const sent = f.batch.loaded - f.offset;
  if (f.size === 0) return sent >= 0 && f.batch.loaded > 0 ? 1 : 0;
  return Math.min(1, Math.max(0, sent / f.size));
}

export class UploadQueue {
  private readonly send: Send;
  private readonly concurrency: number;
  private readonly maxFiles: number;
  private readonly maxBytes: number;
  private readonly maxWaits: number;
  private readonly maxWaitSeconds: number;
  private readonly notifyMs: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly onLanded?: (path: string, files: number) => void;
  private readonly onJobSettled?: (job: JobSummary) => void;

  private jobs: Job[] = [];
  private pending: Batch[] = [];
  private running = 0;
  private nextId = 1;
  private listeners = new Set<() => void>();
  private snapshot: QueueSnapshot = EMPTY;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastNotify = 0;
  private settled = new Set<number>();

  constructor(options: QueueOptions) {
    this.send = options.send;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.maxFiles = options.maxFiles ?? MAX_BATCH_FILES;
    this.maxBytes = options.maxBytes ?? MAX_BATCH_BYTES;
    this.maxWaits = options.maxWaits ?? 30;
    this.maxWaitSeconds = options.maxWaitSeconds ?? 30;
    this.notifyMs = options.notifyMs ?? 200;
    this.sleep = options.sleep ?? abortableSleep;
    this.onLanded = options.onLanded;
    this.onJobSettled = options.onJobSettled;
  }

  // ---- reading ----

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): QueueSnapshot => this.snapshot;

  /**
   * The file shown in row `index` of the file list: every job's files, the newest job
   * first (rows follow the snapshot's `files`).
   */
  fileAt(index: number): QueuedFile | undefined {
    if (index < 0) return undefined;
    for (let j = this.jobs.length - 1; j >= 0; j--) {
      const files = this.jobs[j].files;
      if (index < files.length) return files[index];
      index -= files.length;
    }
    return undefined;
  }

  /** Requests in flight now (not throttled, for tests). */
  get inFlight(): number {
    return this.running;
  }

  // ---- changing ----

  /** Queues files picked or dropped into `basePath` at once; returns the new job's id. */
  add(files: PickedFile[], basePath: string): number | null {
    if (files.length === 0) return null;
    const id = this.begin(basePath, jobLabel(files), files.length);
    this.append(id, sortByPath(files));
    this.end(id);
    return id;
  }

  /**
   * Starts a job whose files come in slices (`append`, then `end`): batches go out as
   * they fill, while the rest is still being read.
   */
  begin(basePath: string, label: string, expected: number): number {
    const job: Job = {
      id: this.nextId++,
      path: basePath,
      label,
      files: [],
      batches: [],
      bytes: 0,
      targets: [],
      expected,
      intake: true,
      cancelled: false,
      open: new Map(),
    };
    this.jobs.push(job);
    this.changed(true);
    return job.id;
  }

  /**
   * Adds files to a job begun and not ended, each to the batch of its folder (at most
   * `maxFiles` files and `maxBytes` bytes; a larger file goes alone). False when the job
   * takes no more (cancelled, ended or cleared).
   */
  append(jobId: number, files: PickedFile[]): boolean {
    const job = this.jobs.find((j) => j.id === jobId);
    if (!job || !job.intake || job.cancelled) return false;
    for (const item of files) {
      const folder = joinPath(job.path, parentPath(item.relativePath));
      const size = item.file.size;
      let batch = job.open.get(folder);
      if (batch && (batch.state !== 'queued' || (batch.files.length > 0 && batch.bytes + size > this.maxBytes))) {
        this.close(batch);
        batch = undefined;
      }
      if (!batch) {
        batch = {
          id: this.nextId++,
          job,
          path: folder,
          files: [],
          bytes: 0,
          state: 'queued',
          loaded: 0,
          sending: 0,
          controller: null,
          resend: false,
          waits: 0,
          errors: [],
        };
        job.open.set(folder, batch);
        job.batches.push(batch);
        if (!job.targets.includes(folder)) job.targets.push(folder);
      }
      const f: QueuedFile = { id: this.nextId++, job, file: item.file, relativePath: item.relativePath, size, batch, state: 'queued', offset: 0 };
      batch.files.push(f);
      batch.bytes += size;
      job.files.push(f);
      job.bytes += size;
      if (batch.files.length >= this.maxFiles || batch.bytes >= this.maxBytes) this.close(batch);
    }
    this.changed();
    this.pump();
    return true;
  }

  /** No more files for this job: its part-filled batches go too. */
  end(jobId: number): void {
    const job = this.jobs.find((j) => j.id === jobId);
    if (!job || !job.intake) return;
    for (const batch of [...job.open.values()]) this.close(batch);
    job.intake = false;
    this.changed(true);
    this.pump();
    this.settle();
  }

  /** A batch takes no more files: it waits for its turn. */
  private close(batch: Batch): void {
    batch.job.open.delete(batch.path);
    if (batch.state === 'queued') this.pending.push(batch);
  }

  /** Cancels one file: taken out of its batch, or its request aborted and the rest sent again. */
  cancelFile(f: QueuedFile): void {
    const b = f.batch;
    if (f.state === 'queued') {
      f.state = 'cancelled';
      if (b.state === 'queued' && !b.files.some((x) => x.state === 'queued')) b.state = 'cancelled';
      if (b.state === 'waiting' && !b.files.some((x) => x.state === 'queued')) b.controller?.abort();
    } else if (f.state === 'uploading') {
      // Sent whole already: the server may be storing it, too late to take back.
      if (b.sending > 0 && b.loaded >= b.sending) return;
      f.state = 'cancelled';
      b.resend = b.files.some((x) => x.state === 'uploading');
      b.controller?.abort();
    } else return;
    this.changed(true);
    this.settle();
  }

  /** Cancels what is left of a job: queued files, requests in flight (aborted), waits. */
  cancelJob(jobId: number): void {
    const job = this.jobs.find((j) => j.id === jobId);
    if (!job) return;
    job.cancelled = true;
    for (const b of job.batches) this.cancelBatch(b);
    this.changed(true);
    this.settle();
  }

  cancelAll(): void {
    for (const job of this.jobs) {
      job.cancelled = true;
      for (const b of job.batches) this.cancelBatch(b);
    }
    this.pending = [];
    this.changed(true);
    this.settle();
  }

  private cancelBatch(b: Batch): void {
    if (b.state === 'queued') {
      b.state = 'cancelled';
      for (const f of b.files) if (f.state === 'queued') f.state = 'cancelled';
    } else if (b.state === 'uploading' || b.state === 'waiting') {
      // Marked now; the request's end (an abort) finds them so.
      b.resend = false;
      for (const f of b.files) if (f.state === 'queued' || f.state === 'uploading') f.state = 'cancelled';
      b.controller?.abort();
    }
  }

  /** Sends the failed files of one job (or of every job) again. */
  retryFailed(jobId?: number): void {
    let any = false;
    for (const job of this.jobs) {
      if (jobId != null && job.id !== jobId) continue;
      for (const b of job.batches) {
        if (b.state !== 'failed') continue;
        for (const f of b.files) if (f.state === 'failed') f.state = 'queued';
        b.state = 'queued';
        b.errors = [];
        b.waits = 0;
        b.loaded = 0;
        b.sending = 0;
        this.pending.push(b);
        any = true;
        this.settled.delete(job.id); // it is told about again when it ends
      }
    }
    if (!any) return;
    this.changed(true);
    this.pump();
  }

  /** Forgets the jobs with nothing queued or in flight. */
  clearFinished(): void {
    const keep = this.jobs.filter((j) => jobActive(j));
    if (keep.length === this.jobs.length) return;
    for (const j of this.jobs) if (!keep.includes(j)) this.settled.delete(j.id);
    this.jobs = keep;
    this.changed(true);
  }

  // ---- sending ----

  private pump(): void {
    while (this.running < this.concurrency && this.pending.length > 0) {
      const b = this.pending.shift()!;
      if (b.state !== 'queued') continue;
      // Its slot is taken now; it starts in a task of its own (building a request of 100
      // files takes a few milliseconds: not on top of whatever called pump).
      this.running++;
      setTimeout(() => void this.run(b), 0);
    }
  }

  /** Sends one batch (its slot taken by `pump`) until it is stored, failed or cancelled. */
  private async run(b: Batch): Promise<void> {
    try {
      for (;;) {
        const files = b.files.filter((f) => f.state === 'queued' || f.state === 'uploading');
        if (files.length === 0) {
          b.state = b.files.some((f) => f.state === 'failed') ? 'failed' : b.files.some((f) => f.state === 'done') ? 'done' : 'cancelled';
          break;
        }
        let offset = 0;
        for (const f of files) {
          f.state = 'uploading';
          f.offset = offset;
          offset += f.size;
        }
        const controller = new AbortController();
        b.controller = controller;
        b.state = 'uploading';
        b.loaded = 0;
        b.sending = offset;
        b.resend = false;
        this.changed(true);
        const payload = offset;
        let result: SendResult | 'aborted';
        try {
          result = await this.send({
            path: b.path,
            files: files.map((f) => f.file),
            signal: controller.signal,
            onProgress: (loaded, total) => {
              if (controller.signal.aborted) return;
              b.loaded = total > 0 ? payload * Math.min(1, loaded / total) : 0;
              this.changed();
            },
          });
        } catch (e) {
          result = controller.signal.aborted
            ? 'aborted'
            : { kind: 'failed', errors: [{ code: 'UNKNOWN', message: e instanceof Error ? e.message : String(e), nextStep: 'Try again.' }] };
        }
        if (controller.signal.aborted) result = 'aborted';
        b.controller = null;
        b.loaded = 0;
        b.sending = 0;
        if (result === 'aborted') {
          if (b.resend) continue; // one file was cancelled: the others again
          for (const f of files) if (f.state === 'uploading') f.state = 'cancelled';
          b.state = b.files.some((f) => f.state === 'done') ? 'done' : 'cancelled';
          break;
        }
        if (result.kind === 'ok') {
          let stored = 0;
          for (const f of files) {
            if (f.state === 'uploading') {
              f.state = 'done';
              stored++;
            }
          }
          b.state = 'done';
          this.changed(true);
          this.onLanded?.(b.path, stored);
          break;
        }
        if (result.kind === 'rate-limited' && b.waits < this.maxWaits) {
          // Too many uploads in flight for this account (another tab): wait as told, then again.
          b.waits++;
          for (const f of files) if (f.state === 'uploading') f.state = 'queued';
          b.state = 'waiting';
          const wait = new AbortController();
          b.controller = wait;
          this.changed(true);
          const seconds = Math.min(this.maxWaitSeconds, Math.max(1, result.retryAfter ?? 2));
          await this.sleep(seconds * 1000, wait.signal);
          b.controller = null;
          continue; // cancelled files are skipped; none left ends it above
        }
        const errors = result.kind === 'failed' ? result.errors : [{ code: 'RATE_LIMITED' as const, message: 'Too many uploads at once.', nextStep: 'Try again later.' }];
        for (const f of files) if (f.state === 'uploading') f.state = 'failed';
        b.state = 'failed';
        b.errors = errors;
        if (result.kind === 'failed' && result.fatal) this.failQueued(errors);
        break;
      }
    } finally {
      b.controller = null;
      this.running--;
      this.changed(true);
      this.settle();
      this.pump();
    }
  }

  /** Storage full or signed out: what is still queued would fail too; it waits for a retry. */
  private failQueued(errors: FriendlyError[]): void {
    for (const b of this.pending) {
      if (b.state !== 'queued') continue;
      b.state = 'failed';
      b.errors = errors;
      for (const f of b.files) if (f.state === 'queued') f.state = 'failed';
    }
    this.pending = [];
  }

  /** Tells about jobs that just ended. */
  private settle(): void {
    if (!this.onJobSettled) return;
    for (const job of this.jobs) {
      if (this.settled.has(job.id) || jobActive(job)) continue;
      this.settled.add(job.id);
      this.onJobSettled(summarize(job));
    }
  }

  // ---- snapshots ----

  /** A change: listeners hear of it at most every `notifyMs` (`soon`: at the next turn). */
  private changed(soon = false): void {
    const delay = soon ? 0 : Math.max(0, this.notifyMs - (Date.now() - this.lastNotify));
    if (this.timer) {
      if (!soon) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => this.flush(), delay);
  }

  /** Rebuilds the snapshot now and tells the listeners. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.lastNotify = Date.now();
    this.snapshot = this.build();
    for (const l of this.listeners) l();
  }

  private build(): QueueSnapshot {
    const jobs = this.jobs.map(summarize).reverse();
    const sum = (k: 'files' | 'bytes' | 'sentBytes' | 'done' | 'failed' | 'cancelled') => jobs.reduce((n, j) => n + j[k], 0);
    const files = sum('files');
    const done = sum('done');
    const failed = sum('failed');
    const cancelled = sum('cancelled');
    const pending = files - done - failed - cancelled;
    return {
      version: this.snapshot.version + 1,
      jobs,
      files,
      bytes: sum('bytes'),
      sentBytes: sum('sentBytes'),
      done,
      failed,
      cancelled,
      pending,
      inFlight: this.running,
      active: pending > 0 || this.running > 0 || jobs.some((j) => j.preparing),
      followRow: this.followRow(),
    };
  }

  private followRow(): number {
    let waiting = -1;
    let row = 0;
    for (let j = this.jobs.length - 1; j >= 0; j--) {
      for (const f of this.jobs[j].files) {
        if (f.state === 'uploading') return row;
        if (waiting < 0 && f.state === 'queued') waiting = row;
        row++;
      }
    }
    return waiting;
  }
}

function jobActive(job: Job): boolean {
  return (job.intake && !job.cancelled) || job.batches.some((b) => b.state === 'queued' || b.state === 'uploading' || b.state === 'waiting');
}

function summarize(job: Job): JobSummary {
  let done = 0;
  let failed = 0;
  let cancelled = 0;
  let waiting = 0;
  let sentBytes = 0;
  const errors: FriendlyError[] = [];
  const seen = new Set<string>();
  for (const b of job.batches) {
    if (b.state === 'uploading') sentBytes += b.loaded;
    for (const f of b.files) {
      if (f.state === 'done') {
        done++;
        sentBytes += f.size;
      } else if (f.state === 'failed') failed++;
      else if (f.state === 'cancelled') cancelled++;
      else if (b.state === 'waiting') waiting++;
    }
    for (const e of b.errors) {
      const key = `${e.code}|${e.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      errors.push(e);
    }
  }
  const files = job.files.length;
  const active = jobActive(job);
  const status: JobStatus = active ? 'active' : failed > 0 ? 'failed' : done === 0 && cancelled > 0 ? 'cancelled' : 'done';
  return {
    id: job.id,
    path: job.path,
    label: job.label,
    targets: job.targets,
    files,
    bytes: job.bytes,
    done,
    failed,
    cancelled,
    sentBytes,
    waiting,
    expected: job.expected,
    preparing: job.intake && !job.cancelled,
    status,
    errors,
  };
}

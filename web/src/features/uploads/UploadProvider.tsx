// The upload manager, above the routes: one queue for the signed-in session, so uploads
// go on (and the tray stays) while people move between pages. It asks before the page
// unloads while anything is sent, tells the cache what landed where (the listings and the
// storage meter follow), and cancels everything on sign-out.
import { createContext, useContext, useEffect, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { useClient } from 'urql';
import { reportLanded } from './reportLanded';
import { yieldToMain } from './yieldToMain';
import type { PickedFile } from './upload';
import { jobLabel, sortByPath, UploadQueue, type JobSummary, type QueueSnapshot, type Send } from './uploadQueue';
import { sendBatch } from './transport';

type Listener<T> = (value: T) => void;

/** Main-thread time spent taking in picked files before letting the page respond. */
const SLICE_MS = 15;

export class UploadManager {
  readonly queue: UploadQueue;
  private landed = new Set<Listener<string>>();
  private settled = new Set<Listener<JobSummary>>();

  constructor(send: Send = sendBatch) {
    this.queue = new UploadQueue({
      send,
      concurrency: 4,
      onLanded: (path) => this.landed.forEach((l) => l(path)),
      onJobSettled: (job) => this.settled.forEach((l) => l(job)),
    });
  }

  /**
   * Queues files picked or dropped into `path`. Reading a picked file's size asks the
   * browser synchronously (a fraction of a millisecond, but 5,000 of them freeze a page
   * for a second): they are read a slice at a time, yielding between slices, and full
   * batches go out while the rest is read.
   */
  async add(files: PickedFile[], path: string): Promise<void> {
    if (files.length === 0) return;
    const sorted = sortByPath(files);
    const job = this.queue.begin(path, jobLabel(sorted), sorted.length);
    let i = 0;
    while (i < sorted.length) {
      // One file at a time against the clock: under load one question can take milliseconds.
      const from = i;
      const until = performance.now() + SLICE_MS;
      do {
        const { file } = sorted[i++];
        void file.size;
        void file.lastModified; // sent with the file: asked now, not when its batch is built
      } while (i < sorted.length && performance.now() < until);
      if (!this.queue.append(job, sorted.slice(from, i))) return; // cancelled meanwhile
      if (i < sorted.length) await yieldToMain();
    }
    this.queue.end(job);
  }

  /** `listener(path)` after each batch is stored in folder `path`. */
  onLanded(listener: Listener<string>): () => void {
    this.landed.add(listener);
    return () => this.landed.delete(listener);
  }

  /** `listener(job)` when a job has nothing left queued or in flight. */
  onSettled(listener: Listener<JobSummary>): () => void {
    this.settled.add(listener);
    return () => this.settled.delete(listener);
  }
}

const UploadContext = createContext<UploadManager | null>(null);

export function UploadProvider({ children }: { children: ReactNode }) {
  const [manager] = useState(() => new UploadManager());
  const client = useClient();
  const active = useSyncExternalStore(manager.queue.subscribe, () => manager.queue.getSnapshot().active);

  // The listings of the folders written to and the storage meter follow the uploads (not
  // after every batch: at most every second), and are exact as soon as an upload ends.
  useEffect(() => {
    const landed = reportLanded(client, 1000);
    const offLanded = manager.onLanded((path) => landed.add(path));
    const offSettled = manager.onSettled(() => landed.flush());
    return () => {
      offLanded();
      offSettled();
      landed.cancel();
    };
  }, [manager, client]);

  // Signed out (or the app gone): nothing goes on being sent.
  useEffect(() => () => manager.queue.cancelAll(), [manager]);

  // Leaving the page would drop the uploads: the browser asks first.
  useEffect(() => {
    if (!active) return;
    const ask = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [active]);

  // Files dropped outside the files screen would be opened by the browser, leaving the app.
  useEffect(() => {
    const guard = (e: DragEvent) => {
      // Taken already (the files screen's drop target listened first).
      if (!hasFiles(e) || e.defaultPrevented) return;
      e.preventDefault();
      if (e.type === 'dragover' && e.dataTransfer) e.dataTransfer.dropEffect = 'none';
    };
    window.addEventListener('dragover', guard);
    window.addEventListener('drop', guard);
    return () => {
      window.removeEventListener('dragover', guard);
      window.removeEventListener('drop', guard);
    };
  }, []);

  return <UploadContext.Provider value={manager}>{children}</UploadContext.Provider>;
}

/** Whether a drag carries files (not text or a link). */
export function hasFiles(e: DragEvent): boolean {
  return Array.from(e.dataTransfer?.types ?? []).includes('Files');
}

export function useUploads(): UploadManager {
  const manager = useContext(UploadContext);
  if (!manager) throw new Error('useUploads outside UploadProvider');
  return manager;
}

export function useUploadSnapshot(): QueueSnapshot {
  const { queue } = useUploads();
  return useSyncExternalStore(queue.subscribe, queue.getSnapshot);
}

/** Calls `listener(path)` after each batch lands (the latest `listener`, no resubscribing). */
export function useUploadLanded(listener: (path: string) => void): void {
  const manager = useUploads();
  const latest = useRef(listener);
  useEffect(() => {
    latest.current = listener;
  });
  useEffect(() => manager.onLanded((path) => latest.current(path)), [manager]);
}


/** Whether uploads under way go into `path` or below it (and so create it if it is missing). */
export function useUploadsInto(path: string): boolean {
  const { queue } = useUploads();
  // A boolean: the page re-renders when it changes, not with every progress snapshot.
  return useSyncExternalStore(queue.subscribe, () =>
    queue.getSnapshot().jobs.some((j) => j.status === 'active' && j.targets.some((t) => path === '' || t === path || t.startsWith(`${path}/`))),
  );
}

// Files per second, computed on the client from successive progress events
// (the server sends counters, not rates).

export interface ProgressSample {
  phase: string;
  filesScanned: number;
  filesProcessed: number;
  filesSkipped: number;
}

/** The counter that moves in the given phase. */
export function workDone(p: ProgressSample): number {
  switch (p.phase) {
    case 'QUEUED':
    case 'SCANNING':
    case 'HASHING':
      return p.filesScanned;
    default:
      return p.filesProcessed + p.filesSkipped;
  }
}

interface Point {
  t: number;
  done: number;
  phase: string;
}

/** A sliding window (default 5 s) over samples of one operation. */
export class RateMeter {
  private points: Point[] = [];
  private readonly windowMs: number;
  constructor(windowMs = 5_000) {
    this.windowMs = windowMs;
  }

  add(sample: ProgressSample, atMs: number): void {
    const point = { t: atMs, done: workDone(sample), phase: sample.phase };
    const last = this.points[this.points.length - 1];
    // A new phase counts something else: start over.
    if (last && last.phase !== point.phase) this.points = [];
    this.points.push(point);
    const cutoff = atMs - this.windowMs;
    while (this.points.length > 2 && this.points[1].t <= cutoff) this.points.shift();
  }

  /** Files per second over the window, or null with too little data. */
  rate(): number | null {
    if (this.points.length < 2) return null;
    const first = this.points[0];
    const last = this.points[this.points.length - 1];
    const dt = (last.t - first.t) / 1000;
    if (dt < 0.2) return null;
    return Math.max(0, (last.done - first.done) / dt);
  }
}

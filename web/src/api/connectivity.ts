// Whether the server answers: HTTP requests and the live-updates WebSocket report
// here; a banner shows the loss, a probe retries with backoff, and pages refetch
// when the connection is back (the `epoch` increases).

export type Channel = 'http' | 'live';

export interface ConnectivityState {
  down: Channel[];
  /** Increases each time the connection comes back. */
  epoch: number;
  nextRetryAt: number | null;
}

type Listener = () => void;

export class Connectivity {
  private state: ConnectivityState = { down: [], epoch: 0, nextRetryAt: null };
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private readonly probe: () => Promise<boolean>;

  constructor(probe: () => Promise<boolean>) {
    this.probe = probe;
  }

  getState = (): ConnectivityState => this.state;

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  markDown(channel: Channel): void {
    if (this.state.down.includes(channel)) return;
    this.set({ ...this.state, down: [...this.state.down, channel] });
    if (channel === 'http') this.scheduleProbe();
  }

  markUp(channel: Channel): void {
    if (!this.state.down.includes(channel)) return;
    const down = this.state.down.filter((c) => c !== channel);
    if (channel === 'http') {
      this.attempt = 0;
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
    }
    this.set({ down, epoch: this.state.epoch + 1, nextRetryAt: down.includes('http') ? this.state.nextRetryAt : null });
  }

  /** Probe now (the banner's "Retry now"). */
  retryNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    void this.runProbe();
  }

  private scheduleProbe(): void {
    if (this.timer) return;
    const delay = Math.min(30_000, 2_000 * 2 ** this.attempt);
    this.attempt++;
    this.set({ ...this.state, nextRetryAt: Date.now() + delay });
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.runProbe();
    }, delay);
  }

  private async runProbe(): Promise<void> {
    let ok: boolean;
    try {
      ok = await this.probe();
    } catch {
      ok = false;
    }
    if (ok) this.markUp('http');
    else if (this.state.down.includes('http')) this.scheduleProbe();
  }

  private set(next: ConnectivityState): void {
    this.state = next;
    for (const l of this.listeners) l();
  }
}

/** A cheap request that needs no sign-in. */
export async function probeGraphql(url: string): Promise<boolean> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  return res.ok;
}

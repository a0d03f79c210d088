// Serializes token refresh across tabs: a rotated refresh token must be used once,
// and reuse of an old one ends the whole session. With the Web Locks API (every
// current browser in a secure context) the lock is exact; elsewhere (plain http on a
// LAN address) a short lease in localStorage plus re-reading the token inside the
// lock keeps the window tiny.

export type LockRunner = <T>(name: string, task: () => Promise<T>) => Promise<T>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function storageLeaseLock(storage: Storage, leaseMs = 10_000): LockRunner {
  const me = Math.random().toString(36).slice(2);
  return async (name, task) => {
    const key = `organizer.lock.${name}`;
    for (let attempt = 0; attempt < 200; attempt++) {
      const held = storage.getItem(key);
      const [owner, until] = held ? held.split(':') : [];
      if (!owner || Number(until) < Date.now()) {
        storage.setItem(key, `${me}:${Date.now() + leaseMs}`);
        await sleep(30);
        if (storage.getItem(key)?.startsWith(`${me}:`)) {
          try {
            return await task();
          } finally {
            if (storage.getItem(key)?.startsWith(`${me}:`)) storage.removeItem(key);
          }
        }
      }
      await sleep(50 + Math.random() * 50);
    }
    return task(); // the lease holder vanished without releasing; go ahead
  };
}

export const inTabLock: LockRunner = (() => {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(name: string, task: () => Promise<T>) => {
    const previous = tails.get(name) ?? Promise.resolve();
    const run = previous.then(task, task);
    tails.set(
      name,
      run.catch(() => undefined),
    );
    return run;
  };
})();

export function browserLock(): LockRunner {
  if (typeof navigator !== 'undefined' && navigator.locks?.request) {
    return (name, task) => navigator.locks.request(name, { mode: 'exclusive' }, task);
  }
  if (typeof localStorage !== 'undefined') return storageLeaseLock(localStorage);
  return inTabLock;
}

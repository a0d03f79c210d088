import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { connectivity, session } from '../api/runtime';

export function useSession() {
  return useSyncExternalStore(session.subscribe.bind(session), () => session.getState());
}

export function useConnectivity() {
  return useSyncExternalStore(connectivity.subscribe, connectivity.getState);
}

/** Calls `refetch` each time the connection to the server comes back. */
export function useRefetchOnReconnect(refetch: () => void): void {
  const { epoch } = useConnectivity();
  const first = useRef(epoch);
  const latest = useRef(refetch);
  useEffect(() => {
    latest.current = refetch;
  });
  useEffect(() => {
    if (epoch !== first.current) latest.current();
  }, [epoch]);
}

/** The current time, updated every `ms` milliseconds (for countdowns and "ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

export function useDocumentTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Organizer` : 'Organizer';
  }, [title]);
}

/** `value`, once it has stayed the same for `ms` (a search as typing pauses, not per key). */
export function useDebounced<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

import { describe, expect, it } from 'vitest';
import { throttle } from '../../lib/throttle';
import type { PickedFile } from './upload';
import { fileProgress, jobLabel, UploadQueue, type SendRequest, type SendResult } from './uploadQueue';

const picked = (relativePath: string, size = 10): PickedFile => ({
  file: { name: relativePath.split('/').pop()!, size, lastModified: 0 } as File,
  relativePath,
});
const many = (n: number, folder = 'f', size = 10) => Array.from({ length: n }, (_, i) => picked(`${folder}/${i}.txt`, size));

/** A fake server: each request waits until the test answers it. */
function fakeServer() {
  const calls: { req: SendRequest; answer: (r: SendResult) => void; fail: (e: unknown) => void; aborted: boolean }[] = [];
  const send = (req: SendRequest) =>
    new Promise<SendResult>((resolve, reject) => {
      const call = { req, answer: resolve, fail: reject, aborted: false };
      req.signal.addEventListener('abort', () => {
        call.aborted = true;
        reject(new DOMException('aborted', 'AbortError'));
      });
      calls.push(call);
    });
  const open = () => calls.filter((c) => !c.aborted && !(c as { answered?: boolean }).answered);
  const answer = (c: (typeof calls)[number], r: SendResult) => {
    (c as { answered?: boolean }).answered = true;
    c.answer(r);
  };
  return { calls, send, open, answer };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
async function settle() {
  for (let i = 0; i < 5; i++) await tick();
}

/** Sleeps resolve when the test says (or when aborted). */
function fakeSleep() {
  const sleeps: { ms: number; wake: () => void }[] = [];
  const sleep = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      sleeps.push({ ms, wake: resolve });
      signal.addEventListener('abort', () => resolve());
    });
  return { sleeps, sleep };
}

/** The batches a queue sends for `files` (every request answered at once). */
async function batchesOf(files: PickedFile[], basePath: string, options: { maxFiles?: number; maxBytes?: number } = {}) {
  const sent: [string, string[]][] = [];
  const q = new UploadQueue({
    ...options,
    concurrency: 1,
    send: async (req) => {
      sent.push([req.path, req.files.map((f) => f.name)]);
      return { kind: 'ok' };
    },
  });
  q.add(files, basePath);
  await settle();
  return sent;
}

describe('batch splitting', () => {
  it('splits a folder at 100 files or ~32 MB, whichever comes first', async () => {
    const small = await batchesOf(many(250), '');
    expect(small.map(([, names]) => names.length)).toEqual([100, 100, 50]);
    const big = await batchesOf(many(10, 'f', 10_000_000), 'in');
    expect(big.map(([path, names]) => [path, names.length])).toEqual([
      ['in/f', 3],
      ['in/f', 3],
      ['in/f', 3],
      ['in/f', 1],
    ]);
  });
  it('sends a file larger than the byte limit alone', async () => {
    const files = [picked('a', 5), picked('b', 50_000_000), picked('c', 5)];
    expect((await batchesOf(files, '')).map(([, names]) => names)).toEqual([['a'], ['b'], ['c']]);
  });
  it('one folder per batch, files in name order', async () => {
    const files = [picked('t/c'), picked('t/s/b'), picked('t/a'), picked('d')];
    expect(await batchesOf(files, 'x')).toEqual([
      ['x', ['d']],
      ['x/t', ['a', 'c']],
      ['x/t/s', ['b']],
    ]);
  });
  it('sends full batches while files are still coming in', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send });
    const id = q.begin('', 'f', 250);
    q.append(id, many(150));
    await settle();
    expect(server.calls.map((c) => c.req.files.length)).toEqual([100]);
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ files: 150, active: true, jobs: [{ preparing: true, expected: 250 }] });
    q.append(id, many(100, 'g'));
    q.end(id);
    await settle();
    expect(server.calls.map((c) => [c.req.path, c.req.files.length])).toEqual([
      ['f', 100],
      ['g', 100], // full first
      ['f', 50], // the rest when the intake ends
    ]);
    q.cancelJob(id);
    expect(q.append(id, many(1, 'h'))).toBe(false);
  });
  it('labels a job by its folder, its one file, or its count', () => {
    expect(jobLabel(many(3, 'trip'))).toBe('trip');
    expect(jobLabel([picked('a.pdf')])).toBe('a.pdf');
    expect(jobLabel([picked('a.pdf'), picked('b/c')])).toBe('2 files');
  });
});

describe('UploadQueue', () => {
  it('keeps at most `concurrency` requests in flight and sends every batch', async () => {
    const server = fakeServer();
    const landed: [string, number][] = [];
    const q = new UploadQueue({ send: server.send, concurrency: 4, onLanded: (p, n) => landed.push([p, n]) });
    q.add(many(1000), 'in');
    await settle();
    expect(server.calls.length).toBe(4);
    expect(q.inFlight).toBe(4);
    let answered = 0;
    while (server.open().length > 0) {
      expect(server.open().length).toBeLessThanOrEqual(4);
      server.answer(server.open()[0], { kind: 'ok' });
      answered++;
      await settle();
    }
    expect(answered).toBe(10);
    expect(server.calls.every((c) => c.req.files.length === 100 && c.req.path === 'in/f')).toBe(true);
    expect(landed.reduce((n, [, k]) => n + k, 0)).toBe(1000);
    q.flush();
    const s = q.getSnapshot();
    expect(s).toMatchObject({ files: 1000, done: 1000, pending: 0, active: false, inFlight: 0 });
    expect(s.jobs[0].status).toBe('done');
  });

  it('follows request progress per file and in total', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send });
    q.add([picked('a', 100), picked('b', 100)], '');
    await settle();
    server.calls[0].req.onProgress(150, 200);
    q.flush();
    expect(q.getSnapshot().sentBytes).toBe(150);
    expect([fileProgress(q.fileAt(0)!), fileProgress(q.fileAt(1)!)]).toEqual([1, 0.5]);
  });

  it('cancel all aborts the requests in flight and sends nothing more', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send, concurrency: 4 });
    q.add(many(1000), '');
    await settle();
    server.answer(server.open()[0], { kind: 'ok' });
    await settle();
    expect(server.calls.length).toBe(5);
    q.cancelAll();
    await settle();
    expect(server.calls.slice(1).every((c) => c.aborted)).toBe(true);
    expect(server.calls.length).toBe(5);
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ done: 100, cancelled: 900, pending: 0, active: false, inFlight: 0 });
    expect(q.getSnapshot().jobs[0].status).toBe('done'); // some arrived
  });

  it('cancels one job and leaves the other going', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send, concurrency: 2 });
    const a = q.add(many(300, 'a'), '')!;
    q.add(many(100, 'b'), '');
    await settle();
    q.cancelJob(a);
    await settle();
    // Both slots freed by the cancel: b's batch goes now.
    expect(server.open().map((c) => c.req.path)).toEqual(['b']);
    server.answer(server.open()[0], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot().jobs.map((j) => [j.label, j.status])).toEqual([
      ['b', 'done'],
      ['a', 'cancelled'],
    ]); // newest first
  });

  it('cancelling one file sends the rest of its batch again, without it', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send });
    q.add(many(3), '');
    await settle();
    server.calls[0].req.onProgress(5, 100);
    q.cancelFile(q.fileAt(1)!);
    await settle();
    expect(server.calls[0].aborted).toBe(true);
    expect(server.calls[1].req.files.map((f) => f.name)).toEqual(['0.txt', '2.txt']);
    server.answer(server.calls[1], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ done: 2, cancelled: 1, active: false });
  });

  it('a cancelled file of a queued batch is left out of it', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send, concurrency: 1 });
    q.add(many(150, 'g'), '');
    await settle();
    q.cancelFile(q.fileAt(120)!);
    expect(server.calls[0].aborted).toBe(false);
    server.answer(server.open()[0], { kind: 'ok' });
    await settle();
    expect(server.calls.length).toBe(2);
    expect(server.calls[1].req.files.length).toBe(49);
    expect(server.calls[1].req.files.some((f) => f.name === '120.txt')).toBe(false);
  });

  it('a failed batch fails alone and is sent again by retry', async () => {
    const server = fakeServer();
    const settled: string[] = [];
    const q = new UploadQueue({ send: server.send, concurrency: 1, onJobSettled: (j) => settled.push(`${j.label} ${j.status}`) });
    q.add(many(1, 'other'), '');
    await settle();
    server.answer(server.calls[0], { kind: 'ok' });
    await settle();
    server.calls.length = 0;
    q.add(many(200), '');
    await settle();
    server.answer(server.calls[0], { kind: 'failed', errors: [{ code: 'NETWORK', message: 'gone', nextStep: '' }] });
    await settle();
    server.answer(server.calls[1], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ done: 101, failed: 100, active: false });
    expect(q.getSnapshot().jobs[0]).toMatchObject({ status: 'failed', errors: [{ code: 'NETWORK' }] });
    q.retryFailed(); // every job's failed files
    await settle();
    expect(server.calls.length).toBe(3);
    expect(server.calls[2].req.files.map((f) => f.name)).toEqual(server.calls[0].req.files.map((f) => f.name));
    server.answer(server.calls[2], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ done: 201, failed: 0, active: false });
    expect(q.getSnapshot().jobs[0]).toMatchObject({ status: 'done', errors: [] });
    // Each end is told once: the other job is not told again by the retry.
    expect(settled).toEqual(['other done', 'f failed', 'f done']);
  });

  it('a full storage fails what is queued too (until a retry), not just the one batch', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send, concurrency: 1 });
    q.add(many(300), '');
    await settle();
    server.answer(server.calls[0], { kind: 'failed', errors: [{ code: 'QUOTA_EXCEEDED', message: 'full', nextStep: '' }], fatal: true });
    await settle();
    expect(server.calls.length).toBe(1);
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ failed: 300, active: false });
  });

  it('waits as told when rate-limited, then sends the batch again', async () => {
    const server = fakeServer();
    const clock = fakeSleep();
    const q = new UploadQueue({ send: server.send, sleep: clock.sleep });
    q.add(many(5), '');
    await settle();
    server.answer(server.calls[0], { kind: 'rate-limited', retryAfter: 3 });
    await settle();
    expect(clock.sleeps.map((s) => s.ms)).toEqual([3000]);
    q.flush();
    expect(q.getSnapshot().jobs[0]).toMatchObject({ waiting: 5, status: 'active' });
    expect(server.calls.length).toBe(1);
    clock.sleeps[0].wake();
    await settle();
    expect(server.calls.length).toBe(2);
    server.answer(server.calls[1], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ done: 5, active: false });
  });

  it('cancel during a rate-limit wait ends it at once', async () => {
    const server = fakeServer();
    const clock = fakeSleep();
    const q = new UploadQueue({ send: server.send, sleep: clock.sleep });
    q.add(many(5), '');
    await settle();
    server.answer(server.calls[0], { kind: 'rate-limited', retryAfter: 30 });
    await settle();
    q.cancelAll();
    await settle();
    expect(server.calls.length).toBe(1);
    q.flush();
    expect(q.getSnapshot()).toMatchObject({ cancelled: 5, active: false, inFlight: 0 });
  });

  it('clear finished forgets ended jobs and keeps running ones', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send, concurrency: 1 });
    q.add(many(2, 'a'), '');
    q.add(many(2, 'b'), '');
    await settle();
    server.answer(server.calls[0], { kind: 'ok' });
    await settle();
    q.clearFinished();
    q.flush();
    expect(q.getSnapshot().jobs.map((j) => j.label)).toEqual(['b']);
    expect(q.getSnapshot().files).toBe(2);
    expect(q.fileAt(0)!.relativePath).toBe('b/0.txt');
  });

  it('lists the newest job first and points at the file being sent', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send, concurrency: 1 });
    q.add(many(150, 'a'), '');
    await settle();
    server.answer(server.calls[0], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot().followRow).toBe(100); // a/100.txt… is out, a/0–99 are done
    q.add(many(3, 'b'), '');
    q.flush();
    expect([q.fileAt(0)!.relativePath, q.fileAt(3)!.relativePath, q.fileAt(153)]).toEqual(['b/0.txt', 'a/0.txt', undefined]);
    expect(q.getSnapshot().followRow).toBe(3 + 100);
    server.answer(server.calls[1], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot().followRow).toBe(0); // b's batch now
    server.answer(server.calls[2], { kind: 'ok' });
    await settle();
    q.flush();
    expect(q.getSnapshot().followRow).toBe(-1);
  });

  it('tells listeners at most every notifyMs while progress streams in', async () => {
    const server = fakeServer();
    const q = new UploadQueue({ send: server.send, notifyMs: 50 });
    let heard = 0;
    q.subscribe(() => heard++);
    q.add([picked('a', 1000)], '');
    await settle();
    const before = heard;
    for (let i = 0; i < 1000; i++) server.calls[0].req.onProgress(i, 1000);
    await new Promise((r) => setTimeout(r, 120));
    expect(heard - before).toBeLessThanOrEqual(3);
    expect(q.getSnapshot().sentBytes).toBe(999);
  });
});

describe('throttle', () => {
  it('runs at once, then once more at the end of the interval', async () => {
    let runs = 0;
    const t = throttle(() => runs++, 30);
    t();
    t();
    t();
    expect(runs).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(runs).toBe(2);
    t.cancel();
  });
});

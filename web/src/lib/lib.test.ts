import { describe, expect, it } from 'vitest';
import { breadcrumbs, formatBytes, formatDuration, formatPercent, formatRate, joinPath, normalizePath, parentPath } from './format';
import { barShares, groupByDestination, parseList, STAYS, summarizeDuplicates, trashedCopies, type PlanRecord } from './plan';
import { multipartBody, multipartBodyInSlices, multipartParts, perFileProgress, type PickedFile, type UploadBatch } from '../features/uploads/upload';
import { defaultOptions, toStartInput } from './operationOptions';
import { signupProblems } from './signupChecks';

describe('format', () => {
  it('formats bytes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(3_200_000)).toBe('3.2 MB');
    expect(formatBytes(1_000_000_000)).toBe('1 GB');
    expect(formatBytes(123_456_789_012)).toBe('123 GB');
    expect(formatBytes(null)).toBe('—');
  });
  it('formats durations, rates and percents', () => {
    expect(formatDuration(4_200)).toBe('4 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(3_840_000)).toBe('1 h 4 min');
    expect(formatRate(1234.4)).toBe('1,234 files/s');
    expect(formatRate(2.25)).toBe('2.3 files/s');
    expect(formatRate(null)).toBe('—');
    expect(formatPercent(99.9)).toBe('99 %');
    expect(formatPercent(140)).toBe('100 %');
  });
  it('handles paths', () => {
    expect(normalizePath('/a/b/')).toBe('a/b');
    expect(normalizePath('.')).toBe('');
    expect(joinPath('', 'a', '/b/', '')).toBe('a/b');
    expect(parentPath('a/b/c.txt')).toBe('a/b');
    expect(parentPath('c.txt')).toBe('');
    expect(breadcrumbs('a/b')).toEqual([
      { label: 'All files', path: '' },
      { label: 'a', path: 'a' },
      { label: 'b', path: 'a/b' },
    ]);
  });
});

const rec = (id: string, originalPath: string, newPath: string | null, size = 10, extra: Partial<PlanRecord> = {}): PlanRecord => ({
  id,
  originalPath,
  newPath,
  fileName: originalPath.split('/').pop()!,
  fileSizeBytes: size,
  category: newPath?.split('/')[0] ?? null,
  isDuplicate: false,
  status: 'PLANNED',
  ...extra,
});

describe('plan grouping', () => {
  it('groups an organize plan by destination folder, biggest first, staying files last', () => {
    const groups = groupByDestination([
      rec('1', 'a.jpg', 'Images/a.jpg', 5),
      rec('2', 'b.pdf', 'Documents/b.pdf'),
      rec('3', 'x/c.jpg', 'Images/c.jpg', 7),
      rec('4', 'Images/d.jpg', 'Images/d.jpg'),
      rec('5', 'e.tmp', null, 1, { status: 'SKIPPED', errorMessage: 'excluded' }),
    ]);
    expect(groups.map((g) => [g.folder, g.records.length, g.bytes])).toEqual([
      ['Images', 2, 12],
      ['Documents', 1, 10],
      [STAYS, 2, 11],
    ]);
  });
  it('lists the copies a cleanup trashes and sums what it frees', () => {
    const kept = rec('k', 'a/x.bin', null, 100);
    const dup1 = rec('d1', 'b/x.bin', '.trash/op/b/x.bin', 100, { isDuplicate: true });
    const dup2 = rec('d2', 'c/x.bin', '.trash/op/c/x.bin', 100, { isDuplicate: true });
    const group = { hash: 'h', sizeBytes: 100, kept, files: [kept, dup1, dup2] };
    expect(trashedCopies(group).map((r) => r.id)).toEqual(['d1', 'd2']);
    expect(summarizeDuplicates([group])).toEqual({ groups: 1, extraCopies: 2, bytesFreed: 200 });
    // A record marked KEPT stays, even when the group does not name it.
    const keptByStatus = rec('k2', 'd/x.bin', null, 100, { status: 'KEPT', isDuplicate: true });
    expect(trashedCopies({ hash: 'h', sizeBytes: 100, kept: null, files: [keptByStatus, dup1] }).map((r) => r.id)).toEqual(['d1']);
  });
  it('scales chart bars to the largest value', () => {
    expect(barShares([4, 2, 0], (n) => n).map((b) => b.share)).toEqual([100, 50, 0]);
    expect(barShares([0], (n) => n)[0].share).toBe(0);
  });
  it('parses typed lists', () => {
    expect(parseList(' **/*.tmp,\n cache/** ,, ')).toEqual(['**/*.tmp', 'cache/**']);
  });
});

const picked = (relativePath: string, size = 10, lastModified = Date.UTC(2024, 0, 2)): PickedFile => ({
  file: { name: relativePath.split('/').pop()!, size, lastModified } as File,
  relativePath,
});

const batchOf = (items: PickedFile[], path: string): UploadBatch => ({ path, items, bytes: items.reduce((n, f) => n + f.file.size, 0) });

describe('upload requests', () => {
  it('builds the multipart operations and map, with modifiedAt only when asked', () => {
    const batch = batchOf([picked('a.txt'), picked('b.txt')], 'x');
    const without = multipartParts('mutation', batch, false);
    expect(JSON.parse(without.operations)).toEqual({ query: 'mutation', variables: { path: 'x', files: [null, null] }, operationName: 'UploadFiles' });
    expect(JSON.parse(without.map)).toEqual({ 0: ['variables.files.0'], 1: ['variables.files.1'] });
    const withTimes = multipartParts('mutation', batch, true);
    expect(JSON.parse(withTimes.operations).variables.modifiedAt).toEqual(['2024-01-02T00:00:00.000Z', '2024-01-02T00:00:00.000Z']);
  });
  it('writes the multipart body with its own lowercase boundary', async () => {
    const batch = batchOf([picked('a.txt')], 'x');
    const { body, contentType } = multipartBody(multipartParts('mutation', batch, false), 'organizer-0123abcd');
    expect(contentType).toBe('multipart/form-data; boundary=organizer-0123abcd');
    const text = await body.text();
    expect(text.startsWith('--organizer-0123abcd\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{')).toBe(true);
    expect(text).toContain('\r\n--organizer-0123abcd\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.files.0"]}\r\n');
    expect(text).toContain('Content-Disposition: form-data; name="0"; filename="a.txt"\r\n');
    expect(text.endsWith('\r\n--organizer-0123abcd--\r\n')).toBe(true);
    expect(/^organizer-[0-9a-f]{32}$/.test(multipartBody(multipartParts('m', batch, false)).contentType.split('boundary=')[1])).toBe(true);
  });
  it('builds the same body a few files at a time', async () => {
    const files = Array.from({ length: 25 }, (_, i) => ({ file: new File([`content ${i}`], `f${i}.txt`), relativePath: `f${i}.txt` }));
    const parts = multipartParts('mutation', batchOf(files, 'x'), false);
    let pauses = 0;
    const sliced = await multipartBodyInSlices(parts, async () => void pauses++, 'organizer-0123abcd', -1);
    const whole = multipartBody(parts, 'organizer-0123abcd');
    expect(await sliced.body.text()).toBe(await whole.body.text());
    expect(sliced.contentType).toBe(whole.contentType);
    expect(pauses).toBe(2); // after files 10 and 20
  });
  it('spreads request progress over the files in order', () => {
    expect(perFileProgress([100, 100], 0, 220)).toEqual([0, 0]);
    expect(perFileProgress([100, 100], 110, 220)).toEqual([1, 0]);
    expect(perFileProgress([100, 100], 220, 220)).toEqual([1, 1]);
    expect(perFileProgress([0, 100], 1, 220)).toEqual([1, expect.any(Number)]);
  });
});

describe('operation options', () => {
  it('sends only what applies to the operation type', () => {
    const cleanup = { ...defaultOptions('DUPLICATE_CLEANUP', '/Photos/'), keep: 'NEWEST' as const, protectedPaths: 'Photos/keep\n', exclude: '**/*.tmp' };
    expect(toStartInput(cleanup)).toEqual({
      type: 'DUPLICATE_CLEANUP',
      rootPath: 'Photos',
      dryRun: true,
      options: { includeHidden: false, exclude: ['**/*.tmp'], keep: 'NEWEST', protectedPaths: ['Photos/keep'] },
    });
    const organize = { ...defaultOptions('ORGANIZE', ''), destinationTemplate: '{category}/{year}', settleSeconds: '30', dryRun: false };
    expect(toStartInput(organize)).toEqual({
      type: 'ORGANIZE',
      rootPath: '',
      dryRun: false,
      options: { includeHidden: false, destinationTemplate: '{category}/{year}', settleSeconds: 30 },
    });
  });
});

describe('signupProblems', () => {
  it('names every bad field at once, and none for a good form', () => {
    const fields = signupProblems({ email: 'nope', username: 'a', password: 'short', fullName: 'x'.repeat(201) }).map((p) => p.field);
    expect(fields).toEqual(['email', 'username', 'password', 'fullName']);
    expect(signupProblems({ email: 'ada@example.com', username: 'ada_l', password: 'a long password', fullName: '' })).toEqual([]);
  });
});

// Uploads: collecting dropped or picked files (with their folders), and sending one
// batch of them (see uploadQueue.ts) as the GraphQL multipart request
// (https://github.com/jaydenseric/graphql-multipart-request-spec) with
// XMLHttpRequest so the browser reports upload progress.

import { normalizePath } from '../../lib/format';

export interface PickedFile {
  file: File;
  /** Path relative to the drop/pick root, including the name: "photos/2024/a.jpg". */
  relativePath: string;
}

export interface UploadBatch {
  /** Target folder in the user's space. */
  path: string;
  items: PickedFile[];
  bytes: number;
}

/** Files picked with <input type=file> (webkitRelativePath is set for folder picks). */
export function fromFileList(list: FileList | File[]): PickedFile[] {
  return Array.from(list).map((file) => ({
    file,
    relativePath: normalizePath(file.webkitRelativePath || file.name),
  }));
}

/** The server stores at most this many files per request. */
export const MAX_BATCH_FILES = 100;
/** A request carries at most about this many bytes (one larger file goes alone). */
export const MAX_BATCH_BYTES = 32 * 1000 * 1000;

export interface MultipartParts {
  operations: string;
  map: string;
  files: File[];
}

/** The three parts of a GraphQL multipart request for uploadFiles. */
export function multipartParts(
  query: string,
  batch: UploadBatch,
  sendModifiedAt: boolean,
): MultipartParts {
  const variables: Record<string, unknown> = {
    path: batch.path,
    files: batch.items.map(() => null),
  };
  if (sendModifiedAt) {
    variables.modifiedAt = batch.items.map((f) =>
      f.file.lastModified ? new Date(f.file.lastModified).toISOString() : null,
    );
  }
  const map: Record<string, string[]> = {};
  batch.items.forEach((_, i) => {
    map[String(i)] = [`variables.files.${i}`];
  });
  return {
    operations: JSON.stringify({ query, variables, operationName: 'UploadFiles' }),
    map: JSON.stringify(map),
    files: batch.items.map((f) => f.file),
  };
}

export interface MultipartBody {
  body: Blob;
  contentType: string;
}

/** A multipart boundary of lowercase letters and digits only (see multipartBody). */
export function newBoundary(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `organizer-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A quoted-string value of a Content-Disposition parameter, escaped as browsers do. */
function dispositionValue(value: string): string {
  return value.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

/**
 * The multipart/form-data body, built here rather than by FormData so that the boundary
 * is ours: lowercase only, because some servers lower-case the Content-Type header before
 * reading the boundary from it (and then cannot find a browser's mixed-case
 * "----WebKitFormBoundary…" in the body). The files stay Blob references: nothing is
 * read into memory here.
 */
export function multipartBody(parts: MultipartParts, boundary = newBoundary()): MultipartBody {
  const chunks: BlobPart[] = [head(parts, boundary)];
  parts.files.forEach((file, i) => chunks.push(filePartHead(file, i, boundary), file, '\r\n'));
  chunks.push(`--${boundary}--\r\n`);
  return { body: new Blob(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/**
 * The same body, built a few files at a time with `pause()` between slices once
 * `budgetMs` is spent: putting a picked file into a Blob asks the browser about it, and
 * 100 of them at once can hold the page for tens of milliseconds (more when it is busy).
 * The slices are Blobs themselves; the body only refers to them.
 */
export async function multipartBodyInSlices(
  parts: MultipartParts,
  pause: () => Promise<void>,
  boundary = newBoundary(),
  budgetMs = 8,
): Promise<MultipartBody> {
  const slices: Blob[] = [];
  let chunks: BlobPart[] = [head(parts, boundary)];
  let since = performance.now();
  for (let i = 0; i < parts.files.length; i++) {
    const file = parts.files[i];
    chunks.push(filePartHead(file, i, boundary), file, '\r\n');
    if ((i + 1) % 10 === 0 && i + 1 < parts.files.length) {
      slices.push(new Blob(chunks));
      chunks = [];
      if (performance.now() - since > budgetMs) {
        await pause();
        since = performance.now();
      }
    }
  }
  chunks.push(`--${boundary}--\r\n`);
  slices.push(new Blob(chunks));
  return { body: new Blob(slices), contentType: `multipart/form-data; boundary=${boundary}` };
}

function head(parts: MultipartParts, boundary: string): string {
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  return field('operations', parts.operations) + field('map', parts.map);
}

function filePartHead(file: File, i: number, boundary: string): string {
  return (
    `--${boundary}\r\nContent-Disposition: form-data; name="${i}"; filename="${dispositionValue(file.name)}"\r\n` +
    `Content-Type: ${file.type || 'application/octet-stream'}\r\n\r\n`
  );
}

/**
 * Per-file progress (0–1) from the request's loaded/total bytes: files are sent in
 * order, so each file's share is its span of the body (multipart overhead spread
 * evenly).
 */
export function perFileProgress(sizes: number[], loaded: number, total: number): number[] {
  const payload = sizes.reduce((a, b) => a + b, 0);
  if (total <= 0) return sizes.map(() => 0);
  const sent = payload * Math.min(1, loaded / total);
  let offset = 0;
  return sizes.map((size) => {
    const start = offset;
    offset += size;
    if (size === 0) return sent >= start ? 1 : 0;
    return Math.min(1, Math.max(0, (sent - start) / size));
  });
}

export interface UploadResponse {
  data?: { uploadFiles?: unknown[] } | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

export class UploadNetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UploadNetworkError';
  }
}

export interface UploadHandle {
  promise: Promise<UploadResponse>;
  abort(): void;
}

/**
 * Sends one batch. `onProgress(loaded, total)` follows the request body upload; aborting
 * `signal` aborts the HTTP request (the promise rejects with an AbortError).
 */
export function sendMultipart(
  url: string,
  { body, contentType }: MultipartBody,
  accessToken: string | null,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const promise = new Promise<UploadResponse>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException('Upload cancelled', 'AbortError'));
      return;
    }
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.open('POST', url);
    xhr.responseType = 'text';
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.setRequestHeader('Accept', 'application/graphql-response+json, application/json');
    if (accessToken) xhr.setRequestHeader('Authorization', `Bearer ${accessToken}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onload = () => {
      try {
        const parsed = JSON.parse(xhr.responseText) as UploadResponse;
        resolve(parsed);
      } catch {
        if (xhr.status === 401 || xhr.status === 403) {
          resolve({ errors: [{ message: 'Not signed in.', extensions: { code: 'UNAUTHENTICATED' } }] });
        } else if (xhr.status === 429) {
          const retryAfter = Number(xhr.getResponseHeader('Retry-After')) || undefined;
          resolve({ errors: [{ message: 'Too many uploads at once.', extensions: { code: 'RATE_LIMITED', retryAfter } }] });
        } else if (xhr.status === 413) {
          resolve({ errors: [{ message: 'The upload is larger than the server accepts in one request.', extensions: { code: 'BAD_USER_INPUT' } }] });
        } else {
          reject(new UploadNetworkError(`The server answered ${xhr.status} without a GraphQL response.`));
        }
      }
    };
    xhr.onerror = () => reject(new UploadNetworkError('The upload could not reach the server.'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    xhr.send(body);
  });
  return { promise, abort: () => xhr.abort() };
}

// ---- Drag and drop of folders (DataTransfer entries) ----

interface FsEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  fullPath: string;
}
interface FsFileEntry extends FsEntry {
  file(success: (f: File) => void, failure: (e: unknown) => void): void;
}
interface FsDirectoryEntry extends FsEntry {
  createReader(): { readEntries(success: (entries: FsEntry[]) => void, failure: (e: unknown) => void): void };
}

async function readAll(dir: FsDirectoryEntry): Promise<FsEntry[]> {
  const reader = dir.createReader();
  const all: FsEntry[] = [];
  // readEntries returns at most ~100 entries per call; call until it returns none.
  for (;;) {
    const batch = await new Promise<FsEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FsEntry, prefix: string, out: PickedFile[]): Promise<void> {
  const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FsFileEntry).file(resolve, reject));
    out.push({ file, relativePath: rel });
  } else if (entry.isDirectory) {
    for (const child of await readAll(entry as FsDirectoryEntry)) await walk(child, rel, out);
  }
}

/** Every file of a drop, folders included, with relative paths. */
export async function collectDropped(data: DataTransfer): Promise<PickedFile[]> {
  const entries: FsEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(data.items ?? [])) {
    if (item.kind !== 'file') continue;
    const entry = (item as DataTransferItem & { webkitGetAsEntry?: () => FsEntry | null }).webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const f = item.getAsFile();
      if (f) loose.push(f);
    }
  }
  if (entries.length === 0 && loose.length === 0) return fromFileList(data.files);
  const out: PickedFile[] = [];
  for (const e of entries) await walk(e, '', out);
  out.push(...fromFileList(loose));
  return out;
}

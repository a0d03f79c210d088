// One batch over HTTP: the GraphQL multipart request of uploadFiles, with the session's
// access token (refreshed once if the server says it ended), abortable, and its answer
// turned into what the queue needs to know (stored, wait and retry, or failed).
import { stringifyDocument } from 'urql';
import { connectivity, session } from '../../api/runtime';
import { graphqlHttpUrl } from '../../api/endpoints';
import { describeErrors, type FriendlyError } from '../../api/errors';
import { UploadFilesDocument, UPLOAD_SENDS_MODIFIED_AT } from '../../generated/uploadDocument';
import { multipartBodyInSlices, multipartParts, sendMultipart, UploadNetworkError, type UploadResponse } from './upload';
import type { SendRequest, SendResult } from './uploadQueue';
import { folderLabel } from '../../lib/format';
import { yieldToMain } from './yieldToMain';

const UPLOAD_QUERY = stringifyDocument(UploadFilesDocument);

/** Errors after which every later batch would fail the same way. */
const FATAL = new Set(['QUOTA_EXCEEDED', 'UNAUTHENTICATED']);

export async function sendBatch({ path, files, signal, onProgress }: SendRequest): Promise<SendResult> {
  const batch = { path, items: files.map((file) => ({ file, relativePath: file.name })), bytes: 0 };
  let refreshed = false;
  for (;;) {
    const token = await session.freshAccessToken().catch(() => session.getAccessToken());
    if (signal.aborted) throw new DOMException('Upload cancelled', 'AbortError');
    const parts = multipartParts(UPLOAD_QUERY, batch, UPLOAD_SENDS_MODIFIED_AT);
    const body = await multipartBodyInSlices(parts, yieldToMain);
    let response: UploadResponse;
    try {
      response = await sendMultipart(graphqlHttpUrl(), body, token, onProgress, signal).promise;
    } catch (e) {
      if (e instanceof UploadNetworkError) {
        connectivity.markDown('http');
        return { kind: 'failed', errors: describeErrors({ networkError: e }) };
      }
      throw e;
    }
    connectivity.markUp('http');
    const errors = response.errors ?? [];
    if (errors.length === 0) return { kind: 'ok' };
    const codeOf = (code: string) => errors.find((err) => err.extensions?.code === code);
    if (codeOf('UNAUTHENTICATED') && !refreshed) {
      refreshed = true;
      if (await session.refresh().catch(() => null)) continue;
    }
    const busy = codeOf('RATE_LIMITED');
    if (busy) return { kind: 'rate-limited', retryAfter: Number(busy.extensions?.retryAfter) || undefined };
    const friendly: FriendlyError[] = describeErrors({ graphQLErrors: errors }).map((f) =>
      f.code === 'QUOTA_EXCEEDED' || f.code === 'UNAUTHENTICATED' ? f : { ...f, message: `${folderLabel(path)}: ${f.message}` },
    );
    return { kind: 'failed', errors: friendly, fatal: friendly.some((f) => FATAL.has(f.code)) };
  }
}

// Uploads go over their own HTTP requests, past urql: what they stored is told to the
// cache as the `uploadFiles` mutation it was, answered locally (api/answerExchange.ts), so
// the cache's update makes the listings of those folders and the storage used stale, and
// the other tabs hear of it too (api/tabEcho.ts).
import type { Client } from 'urql';
import { answeredWith } from '../../api/answerExchange';
import { UploadFilesDocument } from '../../generated/uploadDocument';
import { throttle } from '../../lib/throttle';

/** Collects the folders batches landed in and reports them at most every `ms`. */
export function reportLanded(client: Client, ms: number) {
  const folders = new Set<string>();
  const flush = () => {
    for (const path of folders) {
      void client.mutation(UploadFilesDocument, { path, files: [] }, answeredWith({ uploadFiles: [] })).toPromise();
    }
    folders.clear();
  };
  const later = throttle(flush, ms);
  return {
    add(path: string) {
      folders.add(path);
      later();
    },
    /** Reports now (an upload ended: its last files are listed at once). */
    flush() {
      later.cancel();
      flush();
    },
    cancel: () => later.cancel(),
  };
}

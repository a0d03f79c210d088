// The files screen's way in to uploads: an "Upload" button (a menu: files or a folder)
// and drag and drop anywhere on the screen, with a full-screen overlay while files are
// dragged over it. Both hand the files to the upload manager, into the folder shown.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { collectDropped, fromFileList } from './upload';
import { folderLabel } from '../../lib/format';
import { hasFiles, useUploads } from './UploadProvider';

export function UploadButton({ path }: { path: string }) {
  const uploads = useUploads();
  const id = useId();
  const [open, setOpen] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (!open) return;
    wrap.current?.querySelector<HTMLElement>('[role=menuitem]')?.focus();
    const outside = (e: PointerEvent) => {
      if (!wrap.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (!open) return;
    const items = [...(wrap.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') {
      e.preventDefault();
      setOpen(false);
      button.current?.focus();
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (at + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items[next]?.focus();
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  };

  const pick = (input: HTMLInputElement | null) => {
    setOpen(false);
    input?.click();
  };
  const picked = (input: HTMLInputElement) => {
    const files = fromFileList(input.files ?? []);
    input.value = '';
    void uploads.add(files, path);
  };

  return (
    <div className="menu-wrap" ref={wrap} onKeyDown={onKeyDown}>
      <button
        ref={button}
        type="button"
        className="btn btn-primary"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? `${id}-menu` : undefined}
        onClick={() => setOpen((o) => !o)}
      >
        Upload
      </button>
      {open && (
        <div className="menu" role="menu" id={`${id}-menu`} aria-label={`Upload to ${folderLabel(path)}`}>
          <button type="button" role="menuitem" className="menu-item" onClick={() => pick(fileInput.current)}>
            Files…
          </button>
          <button type="button" role="menuitem" className="menu-item" onClick={() => pick(folderInput.current)}>
            A folder…
          </button>
        </div>
      )}
      <input
        id={`${id}-files`}
        ref={fileInput}
        type="file"
        multiple
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Files to upload"
        data-testid="upload-files"
        onChange={(e) => picked(e.currentTarget)}
      />
      <input
        id={`${id}-folder`}
        ref={folderInput}
        type="file"
        multiple
        className="visually-hidden"
        tabIndex={-1}
        aria-label="Folder to upload"
        data-testid="upload-folder"
        {...{ webkitdirectory: '', directory: '' }}
        onChange={(e) => picked(e.currentTarget)}
      />
    </div>
  );
}

/** Files dragged anywhere over the screen: an overlay; dropped: uploaded into `path`. */
export function DropTarget({ path }: { path: string }) {
  const uploads = useUploads();
  const [over, setOver] = useState(false);

  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      setOver(true);
    };
    const overIt = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      // Every element entered is left once: back to none, the files left the window.
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e) || !e.dataTransfer) return;
      e.preventDefault();
      depth = 0;
      setOver(false);
      // The drop's data is readable only now: entries are taken before anything is awaited.
      const loose = fromFileList(e.dataTransfer.files);
      collectDropped(e.dataTransfer).then(
        (files) => uploads.add(files, path),
        () => uploads.add(loose, path),
      );
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', overIt);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', overIt);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [uploads, path]);

  if (!over) return null;
  return (
    <div className="drop-overlay" aria-hidden="true" data-testid="drop-overlay">
      <div className="drop-overlay-box">
        <span className="drop-overlay-icon" />
        <strong>Drop to upload</strong>
        <span>into {folderLabel(path)}</span>
      </div>
    </div>
  );
}

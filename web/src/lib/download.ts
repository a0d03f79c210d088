// Starts a download of a (signed, same-origin) link without leaving the page: an anchor
// with `download`, clicked. Unlike assigning location, this starts no navigation, so a
// page that asks before unload (uploads running) does not ask.
export function startDownload(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.rel = 'noopener';
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
}

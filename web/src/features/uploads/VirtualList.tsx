// A list that renders only the rows in view (plus a few around them), each `rowHeight`
// pixels high, in a scrolling box: 50,000 rows cost as many DOM nodes as 20.
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';

interface Props {
  count: number;
  rowHeight: number;
  /** The box's height before it is measured (its CSS may cap it lower). */
  height: number;
  /** Rows rendered beyond each edge of the view. */
  overscan?: number;
  label: string;
  className?: string;
  renderRow: (index: number) => ReactNode;
  rowKey?: (index: number) => string | number;
  /**
   * A row to keep in view (the work going on), until the person scrolls the list
   * themselves; -1 or undefined: none.
   */
  follow?: number;
}

export function VirtualList({ count, rowHeight, height, overscan = 4, label, className, renderRow, rowKey, follow }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(height);
  const following = useRef(true);
  const stopFollowing = () => {
    following.current = false;
  };

  useEffect(() => {
    const el = box.current;
    if (!el || follow == null || follow < 0 || !following.current) return;
    const top = follow * rowHeight;
    // Only when it has left the view: the list does not twitch with every file.
    if (top < el.scrollTop || top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top;
  }, [follow, rowHeight]);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => setViewport(el.clientHeight || height));
    observer.observe(el);
    return () => observer.disconnect();
  }, [height]);

  const total = count * rowHeight;
  // Rows removed (cleared) may leave the box scrolled past its end.
  const top = Math.min(scrollTop, Math.max(0, total - viewport));
  const first = Math.max(0, Math.floor(top / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((top + viewport) / rowHeight) + overscan);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    rows.push(
      <li key={rowKey ? rowKey(i) : i} className="vlist-row" aria-setsize={count} aria-posinset={i + 1} style={{ top: i * rowHeight, height: rowHeight }}>
        {renderRow(i)}
      </li>,
    );
  }
  return (
    <div
      ref={box}
      className={`vlist ${className ?? ''}`}
      style={{ height: Math.min(height, total) }}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      onWheel={stopFollowing}
      onTouchMove={stopFollowing}
      onKeyDown={stopFollowing}
      onPointerDown={stopFollowing}
      tabIndex={0}
      role="group"
      aria-label={label}
    >
      <ul className="vlist-inner" style={{ height: total }}>
        {rows}
      </ul>
    </div>
  );
}

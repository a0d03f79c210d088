import { formatBytes } from '../lib/format';
import { ProgressBar } from './ProgressBar';

export function quotaBytes(storageQuotaGb: number): number {
  return storageQuotaGb * 1_000_000_000;
}

export function QuotaMeter({ usedBytes, quotaGb, compact }: { usedBytes: number; quotaGb: number; compact?: boolean }) {
  const quota = quotaBytes(quotaGb);
  const share = quota > 0 ? (usedBytes / quota) * 100 : 0;
  const text = `${formatBytes(usedBytes)} of ${quotaGb} GB used`;
  return (
    <div className={`quota ${compact ? 'quota-compact' : ''}`}>
      <span className="quota-text">{text}</span>
      <ProgressBar value={share} label={`Storage: ${text}`} tone={share >= 90 ? 'failed' : 'normal'} small />
    </div>
  );
}

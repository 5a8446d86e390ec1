// The automatic archive (src/domain/archive.ts): run by the order writer that sweeps (OrderWriter.sweep calls
// runIfDue), at most every ARCHIVE_INTERVAL_SECONDS, one run at a time across replicas and `tixlock archive` (a redlock
// of its own, extended while it runs). Each outcome is logged; a mismatch at error level and counted (/metrics).
import { ExecutionError, ResourceLockedError } from 'redlock';
import type Redlock from 'redlock';
import type { ArchiveOutcome, Archiver } from '../domain/archive';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { archiveLockKey } from '../redis/keys';

/** the archive lock's time to live; redlock extends it while the run goes on */
const LOCK_MS = 30_000;

/** Runs `body` holding the archive lock (redlock extends it while the body runs); its abort stops a run between performances. */
export function underArchiveLock<T>(redlock: Redlock, body: (aborted: () => boolean) => Promise<T>): Promise<T> {
  return redlock.using([archiveLockKey], LOCK_MS, async (signal) => body(() => signal.aborted));
}

export interface ArchiveJobDeps {
  archiver: Archiver;
  /** with retryCount 0: a run that finds the lock taken is skipped */
  redlock: Redlock;
  logger: Logger;
  intervalMs: number;
  metrics?: Pick<Metrics, 'archives'>;
  /** a performance whose Redis state went: the writer stops reading its outbox */
  onArchived?: (performanceId: string) => void;
}

export class ArchiveJob {
  private lastRun = 0;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: ArchiveJobDeps) {}

  /** Runs when ARCHIVE_INTERVAL_SECONDS passed since this process's last run; the order writer's sweep calls it. */
  async runIfDue(): Promise<void> {
    if (this.stopped || this.running || Date.now() - this.lastRun < this.deps.intervalMs) return;
    this.lastRun = Date.now();
    this.running = this.run().finally(() => (this.running = undefined));
    await this.running;
  }

  /** Stops after the performance in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async run(): Promise<void> {
    const { archiver, redlock, logger } = this.deps;
    let outcomes: ArchiveOutcome[];
    try {
      outcomes = await underArchiveLock(redlock, (aborted) => archiver.archiveReady(() => aborted() || this.stopped));
    } catch (err) {
      // the lock is taken (another replica, or tixlock archive, runs one): next time
      if (err instanceof ExecutionError || err instanceof ResourceLockedError) logger.debug('archive: another run holds the lock');
      else logger.warn('archive: the run failed; next time', { error: (err as Error).message });
      return;
    }
    for (const o of outcomes) this.report(o);
  }

  private report(o: ArchiveOutcome): void {
    const { logger, metrics } = this.deps;
    if (o.outcome === 'archived') {
      logger.info('archive: performance archived; its Redis state is removed', { ...o });
      this.deps.onArchived?.(o.performance_id);
      metrics?.archives.inc({ outcome: 'archived' });
    } else if (o.outcome === 'mismatch') {
      logger.error('archive: the document store does not hold what Redis has; nothing removed', { ...o });
      metrics?.archives.inc({ outcome: 'mismatch' });
    } else if (o.outcome === 'failed') {
      logger.warn('archive: failed; tried again next time', { ...o });
    } else if (o.outcome === 'waiting') {
      logger.debug('archive: not ready', { ...o });
    }
  }
}

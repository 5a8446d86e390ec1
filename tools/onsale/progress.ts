// The progress display on stderr: one redrawn line on a terminal (~4×/s), a plain line a second otherwise.
import type { Sample } from './metrics';

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressState {
  sample: Sample;
  /** requests per second over the last interval */
  rate: number;
  buyersDone: number;
  buyers: number;
}

const BAR = 24;

/** A bar: █ sold, ▒ locked, ░ available. */
export function bar(total: number, sold: number, locked: number): string {
  if (total <= 0) return ' '.repeat(BAR);
  const s = Math.round((sold / total) * BAR);
  const l = Math.min(BAR - s, Math.round((locked / total) * BAR));
  return '█'.repeat(s) + '▒'.repeat(l) + '░'.repeat(BAR - s - l);
}

export function progressLine(p: ProgressState, tty: boolean): string {
  const { sold, locked, available, errors, t } = p.sample;
  const total = sold + locked + available;
  const parts = [
    `sold ${sold} locked ${locked} available ${available} of ${total}`,
    `buyers ${p.buyersDone}/${p.buyers}`,
    `${Math.round(p.rate)} req/s`,
    `errors ${errors}`,
    `${t.toFixed(1)}s`,
  ];
  return tty ? `[${bar(total, sold, locked)}] ${parts.join(' | ')}` : `onsale: ${parts.join(', ')}`;
}

export class Progress {
  private readonly tty: boolean;
  private lastPlainAt = -Infinity;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly enabled: boolean,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(p: ProgressState): void {
    if (!this.enabled) return;
    const line = progressLine(p, this.tty);
    if (this.tty) {
      const width = this.stream.columns || 120; // 0 when the terminal does not say
      this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(20, width - 1))}`);
      this.drawn = true;
    } else if (p.sample.t - this.lastPlainAt >= 1) {
      this.lastPlainAt = p.sample.t;
      this.stream.write(`${line}\n`);
    }
  }

  /** Leaves the last state on its own line. */
  finish(p: ProgressState): void {
    if (!this.enabled) return;
    if (this.tty) {
      this.update(p);
      if (this.drawn) this.stream.write('\n');
    } else {
      this.stream.write(`${progressLine(p, false)}\n`);
    }
  }

  /** A message on its own line (under the bar on a terminal). */
  note(message: string): void {
    if (!this.enabled) return;
    this.stream.write(this.tty && this.drawn ? `\r\x1b[2K${message}\n` : `${message}\n`);
    this.drawn = false;
  }
}

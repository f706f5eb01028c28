// One status line for long work (training, tokenizer training, evaluation).
// On a terminal it redraws itself in place with '\r':
//   [██████████▍          ] 512/1000  51%  loss 1.873  dev 1.912  12.4k tok/s  ETA 1m 05s
// In a log file or CI (not a TTY) '\r' would pile up into one huge line, so it prints an ordinary line at most
// every `everySeconds` or every `everySteps` steps, plus the last step.
// It writes to stderr by default so that stdout can carry results or JSON.

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** default process.stderr */
  stream?: ProgressStream;
  /** prefix such as 'train' */
  label?: string;
  /** non-TTY: print at most this often (default 10 s) … */
  everySeconds?: number;
  /** … or every this many steps, whichever comes first (default: only by time) */
  everySteps?: number;
  /** TTY redraws at most this often (default 100 ms) */
  redrawMs?: number;
  /** clock in ms, for tests */
  now?: () => number;
}

export interface ProgressUpdate {
  step: number;
  total: number;
  loss?: number;
  devLoss?: number;
  tokensPerSec?: number;
  /** extra fields shown as `key value`, e.g. { lr: 3e-4 } */
  extra?: Record<string, string | number>;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly label: string;
  private readonly everySeconds: number;
  private readonly everySteps: number;
  private readonly redrawMs: number;
  private readonly now: () => number;
  private lastDraw = -Infinity;
  private lastPlain = -Infinity;
  private lastPlainStep = -Infinity;
  private lineShown = false;
  private lastLine = '';
  private lastUpdate: ProgressUpdate | null = null;
  /** when the bar was made (the work starts then: a first step's time counts in 'took') */
  private readonly startTime: number;
  // smoothed seconds per step, for the ETA
  private rateStep: number | null = null;
  private rateTime = 0;
  private secPerStep: number | null = null;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = !!this.stream.isTTY;
    this.label = opts.label ?? '';
    this.everySeconds = opts.everySeconds ?? 10;
    this.everySteps = opts.everySteps ?? Infinity;
    this.redrawMs = opts.redrawMs ?? 100;
    this.now = opts.now ?? (() => performance.now());
    this.startTime = this.now();
  }

  update(u: ProgressUpdate): void {
    const t = this.now();
    this.trackRate(u.step, t);
    this.lastUpdate = u;
    const final = u.step >= u.total;
    if (this.tty) {
      if (!final && t - this.lastDraw < this.redrawMs) return;
      this.lastDraw = t;
      this.drawTTY(this.render(u, this.width()));
    } else {
      const dueTime = (t - this.lastPlain) / 1000 >= this.everySeconds;
      const dueStep = u.step - this.lastPlainStep >= this.everySteps;
      if (!final && !dueTime && !dueStep) return;
      if (final && this.lastPlainStep === u.step) return;
      this.lastPlain = t;
      this.lastPlainStep = u.step;
      this.stream.write(this.render(u, 0) + '\n');
    }
  }

  /**
   * The time until the next update is not work of the kind being counted (an evaluation, a sample): the
   * step-rate window restarts at the next update, so the ETA is not inflated by the pause.
   */
  pause(): void {
    this.rateStep = null;
  }

  /** Print a full line (a sample, an eval result) above the bar without garbling it. */
  log(line: string): void {
    if (this.tty && this.lineShown) {
      this.stream.write('\r\x1b[2K' + line + '\n' + this.lastLine);
    } else {
      this.stream.write(line + '\n');
    }
  }

  /** Finish: leave the last state on its own line (TTY) or print the final line if it was not printed yet. */
  done(): void {
    if (this.tty) {
      if (this.lastUpdate) this.drawTTY(this.render(this.lastUpdate, this.width()));
      if (this.lineShown) this.stream.write('\n');
      this.lineShown = false;
    } else if (this.lastUpdate && this.lastPlainStep !== this.lastUpdate.step) {
      this.lastPlainStep = this.lastUpdate.step;
      this.stream.write(this.render(this.lastUpdate, 0) + '\n');
    }
  }

  /** the text of one status line; width 0 = no bar (plain logs) */
  render(u: ProgressUpdate, width: number): string {
    const parts: string[] = [];
    const frac = u.total > 0 ? Math.min(1, Math.max(0, u.step / u.total)) : 0;
    const digits = String(u.total).length;
    parts.push(`${String(u.step).padStart(digits)}/${u.total}`);
    parts.push(`${String(Math.floor(frac * 100)).padStart(3)}%`);
    // NaN means "not measured yet" (e.g. no dev eval so far): leave the field out rather than print 'NaN'
    if (u.loss !== undefined && !Number.isNaN(u.loss)) parts.push(`loss ${fmtNum(u.loss)}`);
    if (u.devLoss !== undefined && !Number.isNaN(u.devLoss)) parts.push(`dev ${fmtNum(u.devLoss)}`);
    if (u.tokensPerSec !== undefined && Number.isFinite(u.tokensPerSec)) parts.push(`${fmtRate(u.tokensPerSec)} tok/s`);
    if (u.extra) for (const [k, v] of Object.entries(u.extra)) parts.push(`${k} ${typeof v === 'number' ? fmtNum(v) : v}`);
    const eta = this.eta(u);
    // the ETA field is always there on a TTY (as '--' until a rate is known) so the line keeps its length
    if (eta !== null) parts.push(`ETA ${fmtDuration(eta)}`);
    else if (width > 0 && u.step < u.total) parts.push('ETA --');
    else if (u.step >= u.total) parts.push(`took ${fmtDuration((this.now() - this.startTime) / 1000)}`);
    let text = (this.label ? this.label + ' ' : '') + parts.join('  ');
    if (width <= 0) return text;
    // a fixed-width bar (30% of the terminal, at most 30 columns) so it does not jump as the text changes length;
    // dropped when the terminal is too narrow for bar and text together
    const n = Math.min(30, Math.floor(width * 0.3), width - 4 - text.length);
    if (n >= 10) text = `[${bar(frac, n)}] ` + text;
    return text.length > width - 1 ? text.slice(0, width - 1) : text;
  }

  private width(): number {
    return this.stream.columns && this.stream.columns > 0 ? this.stream.columns : 80;
  }

  private drawTTY(line: string): void {
    // pad with spaces rather than rely on \x1b[K so dumb terminals also clear the old tail
    const pad = this.lastLine.length > line.length ? ' '.repeat(this.lastLine.length - line.length) : '';
    this.stream.write('\r' + line + pad);
    this.lastLine = line;
    this.lineShown = true;
  }

  private trackRate(step: number, t: number): void {
    if (this.rateStep === null || step < this.rateStep) {
      this.rateStep = step;
      this.rateTime = t;
      return;
    }
    const ds = step - this.rateStep;
    const dt = (t - this.rateTime) / 1000;
    // sample the rate over windows of ≥ 0.5 s so a burst of fast steps does not make the ETA jump around
    if (ds > 0 && dt >= 0.5) {
      const sps = dt / ds;
      this.secPerStep = this.secPerStep === null ? sps : 0.7 * this.secPerStep + 0.3 * sps;
      this.rateStep = step;
      this.rateTime = t;
    }
  }

  private eta(u: ProgressUpdate): number | null {
    if (this.secPerStep === null || u.step >= u.total) return null;
    return (u.total - u.step) * this.secPerStep;
  }
}

function bar(frac: number, n: number): string {
  const eighths = ' ▏▎▍▌▋▊▉';
  const full = Math.floor(frac * n);
  const rem = Math.floor((frac * n - full) * 8);
  let s = '█'.repeat(full);
  if (full < n) s += rem > 0 ? eighths[rem] : ' ';
  return s + ' '.repeat(Math.max(0, n - s.length));
}

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(1) : v.toFixed(3);
}

function fmtRate(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}

/** 65 → '1m 05s', 3700 → '1h 01m', 9 → '9s' */
export function fmtDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

// A whole-operation deadline (a page with its retries, a download with its retries), as an AbortSignal
// the requests carry. It can be tightened once the size is known: a download must keep a minimum rate,
// so a server trickling a byte at a time (which an idle timeout never catches) is cut off.

export class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();
  private endsAt: number;

  constructor(readonly ms: number) {
    this.endsAt = this.startedAt + ms;
    this.arm();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
  }

  /** The deadline's length from the start, in milliseconds. */
  get totalMs(): number {
    return this.endsAt - this.startedAt;
  }

  /** Moves the deadline earlier, to `ms` after the start (never later). */
  tighten(ms: number): void {
    const endsAt = this.startedAt + ms;
    if (endsAt >= this.endsAt || this.expired) return;
    this.endsAt = endsAt;
    this.arm();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.clear();
    const fire = () => this.controller.abort(Object.assign(new Error(`deadline of ${this.totalMs} ms passed`), { name: 'TimeoutError', code: 'SEALED_DEADLINE' }));
    const left = this.endsAt - Date.now();
    if (left <= 0) fire();
    else {
      this.timer = setTimeout(fire, left);
      this.timer.unref();
    }
  }
}

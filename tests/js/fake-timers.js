// @ts-check
// Timers the tests move by hand: setTimeout/setInterval run only in advance(), in time order.

export class FakeTimers {
  constructor() {
    this.now = 0;
    this.nextId = 1;
    /** @type {Map<number, {at: number, every: number, callback: () => void}>} */
    this.pending = new Map();
  }

  /**
   * @param {() => void} callback
   * @param {number} ms
   */
  setTimeout(callback, ms) {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + ms, every: 0, callback });
    return id;
  }

  /**
   * @param {() => void} callback
   * @param {number} ms
   */
  setInterval(callback, ms) {
    const id = this.nextId++;
    this.pending.set(id, { at: this.now + ms, every: ms, callback });
    return id;
  }

  /** @param {any} id */
  clearTimeout(id) {
    this.pending.delete(id);
  }

  /** @param {any} id */
  clearInterval(id) {
    this.pending.delete(id);
  }

  /** How many timers wait. */
  get count() {
    return this.pending.size;
  }

  /**
   * Moves the clock on by `ms`, running what falls due on the way.
   * @param {number} ms
   */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let dueId = -1;
      let dueAt = Infinity;
      for (const [id, timer] of this.pending) {
        if (timer.at <= end && timer.at < dueAt) [dueId, dueAt] = [id, timer.at];
      }
      const timer = this.pending.get(dueId);
      if (timer === undefined) break;
      this.now = timer.at;
      if (timer.every > 0) timer.at += timer.every;
      else this.pending.delete(dueId);
      timer.callback();
    }
    this.now = end;
  }
}

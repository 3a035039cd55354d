// @ts-check
// Sequence numbers of a live event stream, and recovery from gaps. The conversation page and
// the event stream of every page use it; no DOM here (unit-tested under node --test).
//
// The server numbers the events of a stream 1, 2, 3, … without gaps. The page keeps `lastSeq`,
// the highest number up to which it has every event:
//   - an event at or below lastSeq (or one already applied above a gap) is a repeat: ignored;
//   - lastSeq + 1 is applied and moves lastSeq on (past any events already applied above it);
//   - a higher one is applied too (the page puts it in its place), but lastSeq stays: there is
//     a gap. Events from two server processes can overtake each other, so the gap gets a short
//     grace; if it is still there then, the page asks for a sync: {"type": "sync",
//     "after_seq": lastSeq}. The server sends what was missed, then the current number, which
//     becomes lastSeq.
//   - `hello` (on connect) and `pong` tell the stream's current number: above lastSeq means
//     something was missed. After hello the sync goes at once; after pong, after the grace (an
//     event may still be on its way). After a reconnection the page always syncs.
// One sync at a time: another waits for the answer (or, should none come, for a timeout).
// Without sequence numbers (an older server) nothing of this happens: every event is applied.

/**
 * @typedef {object} SequenceTimers
 * @property {(callback: () => void, ms: number) => unknown} setTimeout
 * @property {(handle: any) => void} clearTimeout
 */

export const GRACE_MS = 300;
export const ANSWER_TIMEOUT_MS = 10_000;

/**
 * Whether `value` is a sequence number (a whole number from 0).
 * @param {unknown} value
 * @returns {value is number}
 */
export function isSeq(value) {
  return Number.isSafeInteger(value) && /** @type {number} */ (value) >= 0;
}

/**
 * A sequence number from an attribute or JSON value; null when there is none.
 * @param {unknown} value
 * @returns {number | null}
 */
export function parseSeq(value) {
  if (isSeq(value)) return value;
  if (typeof value === "string" && /^\d+$/.test(value.trim())) {
    const number = Number(value.trim());
    return isSeq(number) ? number : null;
  }
  return null;
}

export class SequenceTracker {
  /**
   * @param {object} options
   * @param {unknown} [options.initial] the number the page was rendered at
   * @param {boolean} [options.adopt] without `initial`: whether the first hello (or pong) sets
   *   the starting number; if not, nothing is tracked (every event is applied)
   * @param {(afterSeq: number) => void} options.requestSync sends the sync frame
   * @param {number} [options.graceMs]
   * @param {number} [options.answerTimeoutMs]
   * @param {SequenceTimers} [options.timers]
   */
  constructor({
    initial,
    adopt = true,
    requestSync,
    graceMs = GRACE_MS,
    answerTimeoutMs = ANSWER_TIMEOUT_MS,
    timers = globalThis,
  }) {
    /** @type {number | null} */
    this.lastSeq = parseSeq(initial);
    /** The highest number the server said exists (hello, pong). */
    this.known = this.lastSeq ?? 0;
    /** @type {Set<number>} numbers above a gap that were applied already */
    this.ahead = new Set();
    this.syncing = false;
    this.adopt = adopt;
    this.requestSync = requestSync;
    this.graceMs = graceMs;
    this.answerTimeoutMs = answerTimeoutMs;
    this.timers = timers;
    /** @type {unknown} */
    this.graceTimer = null;
    /** @type {unknown} */
    this.answerTimer = null;
  }

  /** Whether the page is known to miss events. */
  get behind() {
    return this.lastSeq !== null && (this.ahead.size > 0 || this.known > this.lastSeq);
  }

  /**
   * An event of the stream arrived: whether to apply it. Events without a number are applied.
   * @param {unknown} seq
   * @returns {boolean}
   */
  accept(seq) {
    if (!isSeq(seq) || this.lastSeq === null) return true;
    if (seq <= this.lastSeq || this.ahead.has(seq)) return false;
    if (seq === this.lastSeq + 1) {
      this.lastSeq = seq;
      this.advance();
    } else {
      this.ahead.add(seq);
    }
    this.check();
    return true;
  }

  /**
   * `hello`: the socket is (again) connected and the stream stands at `seq`.
   * @param {unknown} seq
   * @param {{reconnected?: boolean}} [info]
   */
  hello(seq, { reconnected = false } = {}) {
    // An answer to a sync sent over the previous connection will not come.
    this.clearAnswerTimer();
    this.syncing = false;
    if (this.lastSeq === null) {
      if (isSeq(seq) && this.adopt) this.lastSeq = this.known = seq;
      return;
    }
    if (isSeq(seq) && seq > this.known) this.known = seq;
    if (reconnected || this.behind) this.sync();
  }

  /**
   * `pong`: the stream stands at `seq`.
   * @param {unknown} seq
   */
  current(seq) {
    if (!isSeq(seq)) return;
    if (this.lastSeq === null) {
      if (this.adopt) this.lastSeq = this.known = seq;
      return;
    }
    if (seq > this.known) this.known = seq;
    this.check();
  }

  /**
   * The server's answer to a sync (after the missed events): the stream stands at `seq`.
   * @param {unknown} seq
   */
  synced(seq) {
    this.clearAnswerTimer();
    this.syncing = false;
    if (isSeq(seq) && (this.lastSeq !== null || this.adopt)) {
      this.lastSeq = this.lastSeq === null ? seq : Math.max(this.lastSeq, seq);
      if (seq > this.known) this.known = seq;
      for (const applied of this.ahead) {
        if (applied <= this.lastSeq) this.ahead.delete(applied);
      }
      this.advance();
    }
    this.check();
  }

  /** The socket closed: no answer will come over it; the next hello syncs. */
  disconnected() {
    this.clearAnswerTimer();
    this.timers.clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.syncing = false;
  }

  /** Moves lastSeq past the events already applied right above it. @private */
  advance() {
    if (this.lastSeq === null) return;
    while (this.ahead.delete(this.lastSeq + 1)) this.lastSeq += 1;
    if (this.known < this.lastSeq) this.known = this.lastSeq;
  }

  /** A gap starts the grace (once); none left stops it. @private */
  check() {
    if (!this.behind) {
      this.timers.clearTimeout(this.graceTimer);
      this.graceTimer = null;
      return;
    }
    if (this.graceTimer !== null || this.syncing) return;
    this.graceTimer = this.timers.setTimeout(() => {
      this.graceTimer = null;
      if (this.behind) this.sync();
    }, this.graceMs);
  }

  /** @private */
  sync() {
    this.timers.clearTimeout(this.graceTimer);
    this.graceTimer = null;
    if (this.syncing || this.lastSeq === null) return;
    this.syncing = true;
    this.answerTimer = this.timers.setTimeout(() => {
      // No answer: perhaps lost with the connection. Allow another.
      this.answerTimer = null;
      this.syncing = false;
      this.check();
    }, this.answerTimeoutMs);
    this.requestSync(this.lastSeq);
  }

  /** @private */
  clearAnswerTimer() {
    this.timers.clearTimeout(this.answerTimer);
    this.answerTimer = null;
  }
}

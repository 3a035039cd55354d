// @ts-check
// The pages' WebSocket that comes back by itself: the call page, a conversation page and the
// event stream of every logged-in page use this one. After a drop it reconnects with a pause
// that doubles from attempt to attempt up to a limit (30 s unless a page says otherwise); after
// a close code that says "this will not get better" (logged out, not yours, replaced) it stops.
// While open it sends {"type": "ping"} on a timer, which the server answers with a pong.
//
// Frames from the server arrive parsed; a frame that is no JSON is logged and skipped.

/**
 * @typedef {object} Timers
 * @property {(callback: () => void, ms: number) => unknown} setTimeout
 * @property {(handle: any) => void} clearTimeout
 * @property {(callback: () => void, ms: number) => unknown} setInterval
 * @property {(handle: any) => void} clearInterval
 */

/**
 * The part of the WebSocket class this module uses (a fake one in the unit tests).
 * @typedef {{new (url: string): WebSocket, readonly OPEN: number}} SocketClass
 */

/**
 * @typedef {object} SocketOptions
 * @property {string} url the full ws:// or wss:// address (see socketUrl)
 * @property {(event: any) => void} onEvent each JSON frame from the server, parsed
 * @property {(info: {reconnected: boolean}) => void} [onOpen] after every successful connect;
 *   `reconnected` is true from the second one on
 * @property {(code: number, info: {final: boolean}) => void} [onClose] after every close that
 *   the page did not ask for; `final` when the code is one of finalCodes (no further attempt)
 * @property {Iterable<number>} [finalCodes] close codes after which the socket stays closed
 * @property {number} [pingMs] milliseconds between two pings while open; 0 for none
 * @property {number} [firstPauseMs] the pause before the first reconnection
 * @property {number} [maxPauseMs] the longest pause between two attempts
 * @property {SocketClass} [WebSocket]
 * @property {Timers} [timers]
 */

export const PING_MS = 30_000;
export const FIRST_PAUSE_MS = 1_000;
export const MAX_PAUSE_MS = 30_000;

/**
 * The pause before reconnection number `attempt` (0 for the first after a drop).
 * @param {number} attempt
 * @param {number} [first]
 * @param {number} [max]
 */
export function pauseBefore(attempt, first = FIRST_PAUSE_MS, max = MAX_PAUSE_MS) {
  return Math.min(max, first * 2 ** attempt);
}

/**
 * The WebSocket address of `path` on the page's own host, with the page's scheme.
 * @param {string} path
 * @param {{protocol: string, host: string}} [location]
 */
export function socketUrl(path, location = window.location) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${path}`;
}

export class ReconnectingSocket {
  /** @param {SocketOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {Set<number>} */
    this.finalCodes = new Set(options.finalCodes ?? []);
    this.pingMs = options.pingMs ?? PING_MS;
    this.firstPauseMs = options.firstPauseMs ?? FIRST_PAUSE_MS;
    this.maxPauseMs = options.maxPauseMs ?? MAX_PAUSE_MS;
    /** @type {SocketClass} */
    this.Socket = options.WebSocket ?? globalThis.WebSocket;
    /** @type {Timers} */
    this.timers = options.timers ?? globalThis;
    /** @type {WebSocket | null} */
    this.socket = null;
    this.attempt = 0;
    this.opened = 0;
    this.stopped = false;
    /** @type {unknown} */
    this.pingTimer = null;
    /** @type {unknown} */
    this.retryTimer = null;
  }

  /** Connects (once; later connections happen by themselves). */
  start() {
    if (this.socket === null && !this.stopped) this.connect();
    return this;
  }

  get isOpen() {
    return this.socket !== null && this.socket.readyState === this.Socket.OPEN;
  }

  /**
   * Sends a frame as JSON if the socket is open.
   * @param {object} frame
   * @returns {boolean} whether it went out
   */
  send(frame) {
    if (!this.isOpen || this.socket === null) return false;
    this.socket.send(JSON.stringify(frame));
    return true;
  }

  /** Closes for good: no reconnection, no onClose. */
  stop() {
    this.stopped = true;
    this.timers.clearTimeout(this.retryTimer);
    this.timers.clearInterval(this.pingTimer);
    this.socket?.close();
  }

  /** @private */
  connect() {
    const socket = new this.Socket(this.options.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) return;
      this.attempt = 0;
      this.opened += 1;
      this.timers.clearInterval(this.pingTimer);
      if (this.pingMs > 0) {
        this.pingTimer = this.timers.setInterval(() => this.send({ type: "ping" }), this.pingMs);
      }
      this.options.onOpen?.({ reconnected: this.opened > 1 });
    });
    socket.addEventListener("message", (message) => {
      if (this.socket !== socket) return;
      let event;
      try {
        event = JSON.parse(message.data);
      } catch (error) {
        console.warn("unreadable frame", error);
        return;
      }
      try {
        this.options.onEvent(event);
      } catch (error) {
        console.error("a socket event could not be handled", event?.type, error);
      }
    });
    socket.addEventListener("close", (closed) => {
      if (this.socket !== socket) return;
      this.timers.clearInterval(this.pingTimer);
      if (this.stopped) return;
      const final = this.finalCodes.has(closed.code);
      if (final) this.stopped = true;
      this.options.onClose?.(closed.code, { final });
      if (this.stopped) return; // final, or the page stopped it in onClose
      const pause = pauseBefore(this.attempt, this.firstPauseMs, this.maxPauseMs);
      this.attempt += 1;
      this.retryTimer = this.timers.setTimeout(() => this.connect(), pause);
    });
  }
}

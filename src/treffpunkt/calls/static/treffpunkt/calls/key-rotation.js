// @ts-check
// Frame keys of one peer connection (P-CALL-5). Each side makes a random frame key, wraps it
// under the connection's wrapping key (key-agreement.js) and sends it over the peer-to-peer
// data channel, never through the server; the receiver installs it in its worker and
// acknowledges, and only then does the sender switch to it. Every `rotationSeconds` the next
// one. No DOM (unit-tested under Node with a fake channel and worker).

/** @typedef {import("./key-agreement.js").KeyAgreement} KeyAgreement */
/** @typedef {import("./e2ee-worker.js").WorkerRequest} WorkerRequest */

/**
 * @typedef {object} RotationTimers
 * @property {(callback: () => void, ms: number) => unknown} setTimeout
 * @property {(handle: any) => void} clearTimeout
 * @property {(callback: () => void, ms: number) => unknown} setInterval
 * @property {(handle: any) => void} clearInterval
 */

/**
 * The data channel as this module uses it.
 * @typedef {{readonly readyState: string, send(data: string): void}} KeyChannel
 */

/**
 * @typedef {object} RotationOptions
 * @property {KeyAgreement} agreement
 * @property {KeyChannel} channel
 * @property {(request: WorkerRequest) => Promise<unknown>} ask the encryption worker
 * @property {number} rotationSeconds
 * @property {(step: () => Promise<void>) => void} enqueue runs a step after the page's others
 * @property {() => void} [onChange] a generation changed (to show it)
 * @property {(reason: string) => void} onFailure the other side's key message is not genuine
 * @property {(key: CryptoKey) => void} [onNewKey] each new frame key of ours (test hook)
 * @property {RotationTimers} [timers]
 */

export const RESEND_MS = 2000;
/** Key messages that overtook the public key (which comes through the server) wait: so many. */
export const EARLY_MESSAGES = 8;

export class KeyRotation {
  /** @param {RotationOptions} options */
  constructor(options) {
    this.options = options;
    /** @type {RotationTimers} */
    this.timers = options.timers ?? globalThis;
    /** The generation of our key that the worker encrypts with (0: none yet). */
    this.sendGeneration = 0;
    /** The newest generation of the other side's keys installed. */
    this.peerGeneration = 0;
    /** @type {Map<number, CryptoKey>} offered, not acknowledged yet */
    this.pending = new Map();
    /** @type {string[]} */
    this.early = [];
    /** @type {unknown} */
    this.resendTimer = null;
    /** @type {unknown} */
    this.rotationTimer = null;
    this.closed = false;
  }

  get ready() {
    const { channel, agreement } = this.options;
    return !this.closed && channel.readyState === "open" && agreement.wrapKey !== null;
  }

  /** The first key, once the channel is open and the wrapping key derived; then the timer. */
  async start() {
    if (this.sendGeneration > 0 || this.pending.size > 0 || !this.ready) return;
    await this.offer();
    this.timers.clearInterval(this.rotationTimer);
    this.rotationTimer = this.timers.setInterval(
      () => this.options.enqueue(() => this.offer()),
      this.options.rotationSeconds * 1000,
    );
  }

  /** Offers the next key, unless the last one is not acknowledged yet. */
  async offer() {
    if (!this.ready || this.pending.size > 0) return;
    const generation = this.sendGeneration + 1;
    const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, true, [
      "encrypt",
      "decrypt",
    ]);
    const wrapped = await this.options.agreement.wrap(key);
    if (this.closed) return;
    this.pending.set(generation, key);
    this.options.onNewKey?.(key);
    const message = JSON.stringify({ t: "key", generation, ...wrapped });
    this.options.channel.send(message);
    this.resendUntilAcknowledged(generation, message);
  }

  /**
   * The data channel is reliable, but the other side may have been rebuilding its
   * connection; without an acknowledgement the rotation would stop. Installing a key twice
   * is harmless.
   * @param {number} generation
   * @param {string} message
   * @private
   */
  resendUntilAcknowledged(generation, message) {
    this.timers.clearTimeout(this.resendTimer);
    this.resendTimer = this.timers.setTimeout(() => {
      if (this.pending.has(generation) && this.ready) {
        this.options.channel.send(message);
        this.resendUntilAcknowledged(generation, message);
      }
    }, RESEND_MS);
  }

  /**
   * A message from the other side's data channel: a key of theirs, or their acknowledgement
   * of ours.
   * @param {string} data
   */
  async receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (this.closed || !Number.isInteger(message?.generation) || message.generation < 1) return;
    const { agreement, ask } = this.options;
    if (message.t === "key") {
      if (agreement.wrapKey === null) {
        if (this.early.length < EARLY_MESSAGES) this.early.push(data);
        return;
      }
      let key;
      try {
        key = await agreement.unwrap({ iv: String(message.iv), key: String(message.key) });
      } catch {
        this.options.onFailure("a frame key could not be unwrapped");
        return;
      }
      await ask({
        op: "addReceiveKey",
        index: message.generation % 256,
        generation: message.generation,
        key,
      });
      if (this.closed) return;
      this.peerGeneration = message.generation;
      if (this.options.channel.readyState === "open") {
        this.options.channel.send(JSON.stringify({ t: "ack", generation: message.generation }));
      }
      this.options.onChange?.();
    } else if (message.t === "ack") {
      const key = this.pending.get(message.generation);
      if (!key) return;
      this.pending.clear();
      this.timers.clearTimeout(this.resendTimer);
      // The other side holds the key now; from this frame on we use it.
      await ask({
        op: "setSendKey",
        index: message.generation % 256,
        generation: message.generation,
        key,
      });
      this.sendGeneration = message.generation;
      this.options.onChange?.();
    }
  }

  /** The wrapping key is derived: the key messages that came too early, then our first key. */
  async keysAgreed() {
    const early = this.early;
    this.early = [];
    for (const data of early) await this.receive(data);
    await this.start();
  }

  close() {
    this.closed = true;
    this.timers.clearInterval(this.rotationTimer);
    this.timers.clearTimeout(this.resendTimer);
    this.pending.clear();
    this.early = [];
  }
}

// @ts-check
// The page's side of the encryption worker (e2ee-worker.js): starts it on first use, asks it
// things and waits for the answer, and puts it between a sender or receiver and the network.

/** @typedef {import("./e2ee-worker.js").WorkerRequest} WorkerRequest */
/** @typedef {import("./e2ee-worker.js").TransformOptions} TransformOptions */
/** @typedef {import("./frame-crypto.js").Counters} Counters */

/**
 * Chromium's older API: the encoded frames of a sender or receiver as a pair of streams.
 * @typedef {{createEncodedStreams(): {readable: ReadableStream, writable: WritableStream}}}
 *   WithEncodedStreams
 */

/** Which way this browser lets a script see encoded frames, if any. */
export function frameAccess() {
  if ("RTCRtpScriptTransform" in window) return "script-transform";
  if ("RTCRtpSender" in window && "createEncodedStreams" in RTCRtpSender.prototype) {
    return "encoded-streams";
  }
  return null;
}

export class WorkerBridge {
  /**
   * @param {string} url the worker script
   * @param {"script-transform" | "encoded-streams"} access see frameAccess
   */
  constructor(url, access) {
    this.url = url;
    this.access = access;
    /** @type {Worker | null} */
    this.worker = null;
    /** @type {Map<number, (data: any) => void>} */
    this.waiting = new Map();
    this.lastId = 0;
  }

  /** The worker, started on first use. */
  get() {
    if (this.worker === null) {
      const worker = new Worker(this.url, { type: "module", name: "treffpunkt-e2ee" });
      worker.addEventListener("message", (event) => {
        const resolve = this.waiting.get(event.data?.id);
        if (resolve) {
          this.waiting.delete(event.data.id);
          resolve(event.data);
        }
      });
      this.worker = worker;
    }
    return this.worker;
  }

  /**
   * Sends a request and resolves with the worker's answer.
   * @param {WorkerRequest} message
   * @param {Transferable[]} [transfer]
   * @returns {Promise<any>}
   */
  ask(message, transfer = []) {
    this.lastId += 1;
    const id = this.lastId;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.get().postMessage({ ...message, id }, transfer);
    });
  }

  /** @returns {Promise<Counters>} */
  async counters() {
    return (await this.ask({ op: "counters" })).counters;
  }

  /**
   * Puts the worker between a sender (encrypt) or receiver (decrypt) and the network.
   * @param {RTCRtpSender | RTCRtpReceiver} target
   * @param {"encrypt" | "decrypt"} operation
   * @param {"audio" | "video"} kind
   */
  attach(target, operation, kind) {
    /** @type {TransformOptions} */
    const options = { operation, kind };
    if (this.access === "script-transform") {
      target.transform = new RTCRtpScriptTransform(this.get(), options);
    } else {
      const { readable, writable } = /** @type {WithEncodedStreams} */ (
        /** @type {unknown} */ (target)
      ).createEncodedStreams();
      this.get().postMessage({ op: "streams", readable, writable, options }, [readable, writable]);
    }
  }
}

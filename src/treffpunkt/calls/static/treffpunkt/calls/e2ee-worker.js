// @ts-check
// Frame encryption for the video call (P-CALL-5). A dedicated module worker: the page hands it
// frame keys as CryptoKey objects (they never leave the browser) and the encoded audio and
// video frames, through RTCRtpScriptTransform or, where only that exists, createEncodedStreams.
// The frame format and the work on each frame are in frame-crypto.js.
import { FrameCrypto } from "./frame-crypto.js";

/** @typedef {import("./frame-crypto.js").MediaKind} MediaKind */
/** @typedef {import("./frame-crypto.js").Frame} Frame */
/** @typedef {{operation: "encrypt" | "decrypt", kind: MediaKind}} TransformOptions */

/**
 * What the page asks of the worker (see worker-bridge.js); `id` comes back in the answer.
 * @typedef {{id?: number} & (
 *   | {op: "streams", readable: ReadableStream<Frame>, writable: WritableStream<Frame>,
 *      options: TransformOptions}
 *   | {op: "setSendKey", index: number, generation: number, key: CryptoKey}
 *   | {op: "addReceiveKey", index: number, generation: number, key: CryptoKey}
 *   | {op: "reset"}
 *   | {op: "counters"}
 *   | {op: "useWrongKeys", key: CryptoKey}
 * )} WorkerRequest
 */

/**
 * What RTCRtpScriptTransform hands the worker for each sender and receiver.
 * @typedef {object} TransformEvent
 * @property {{readable: ReadableStream<Frame>, writable: WritableStream<Frame>,
 *   options: TransformOptions}} transformer
 */

/**
 * The parts of a dedicated worker's global scope used here (the project is checked against the
 * DOM library, which has no worker scope).
 * @typedef {object} WorkerScope
 * @property {(message: unknown) => void} postMessage
 * @property {((event: MessageEvent<WorkerRequest>) => void) | null} onmessage
 * @property {((event: TransformEvent) => void) | null} onrtctransform
 */

const scope = /** @type {WorkerScope} */ (/** @type {unknown} */ (globalThis));
const frames = new FrameCrypto();

/**
 * Runs one direction of one track through encryption or decryption: each frame is read,
 * worked on and written before the next is read, so the frames of one track stay in order.
 * A plain read-write loop rather than pipeThrough(TransformStream).pipeTo(): a stream and a
 * pipe less per frame (in an A/B run of bench/e2ee_cpu.py's encrypted call, about 5 % less
 * CPU for the whole browser).
 * @param {ReadableStream<Frame>} readable
 * @param {WritableStream<Frame>} writable
 * @param {TransformOptions} options
 */
async function attach(readable, writable, options) {
  const { kind } = options;
  const encrypt = options.operation === "encrypt";
  const reader = readable.getReader();
  const writer = writable.getWriter();
  try {
    for (;;) {
      const { value: frame, done } = await reader.read();
      if (done) break;
      if (await (encrypt ? frames.encrypt(kind, frame) : frames.decrypt(kind, frame))) {
        // The sink takes the frame at once; a failed write means the connection closed.
        writer.write(frame).catch(() => {});
      }
    }
  } catch {
    // the peer connection closed
  }
}

scope.onrtctransform = (/** @type {TransformEvent} */ event) => {
  const transformer = event.transformer;
  attach(transformer.readable, transformer.writable, transformer.options);
};

scope.onmessage = (/** @type {MessageEvent<WorkerRequest>} */ event) => {
  const message = event.data;
  /** @param {object} data */
  const reply = (data) => scope.postMessage({ id: message.id, ...data });
  switch (message.op) {
    case "streams":
      attach(message.readable, message.writable, message.options);
      break;
    case "setSendKey":
      frames.setSendKey(message.index, message.generation, message.key);
      reply({ ok: true });
      break;
    case "addReceiveKey":
      frames.addReceiveKey(message.index, message.generation, message.key);
      reply({ ok: true });
      break;
    case "reset":
      frames.reset();
      reply({ ok: true });
      break;
    case "counters":
      reply({ counters: { ...frames.counters } });
      break;
    case "useWrongKeys":
      // Test hook: from now on this receiver holds a key the sender never used.
      frames.useWrongKeys(message.key);
      reply({ ok: true });
      break;
    default:
      reply({ error: "unknown operation" });
  }
};

// @ts-check
// The frame format of the call's end-to-end encryption (P-CALL-5), and what encrypts and
// decrypts frames in it. The encryption worker (e2ee-worker.js) runs this; no DOM, so the unit
// tests run it under Node with the same WebCrypto.
//
// An encrypted frame looks like this:
//   [clear header][AES-GCM ciphertext and 16-byte tag][12-byte IV][1-byte key index]
// The clear header is what the receiving depacketizer needs: 10 bytes of a VP8 key frame, 3 of
// a VP8 delta frame, 1 of an Opus frame (the same split Jitsi uses). It is authenticated as
// additional data, so it cannot be changed either. The IV is a random 4-byte salt per key
// followed by a 64-bit big-endian frame counter: never reused under one key.

export const SALT_BYTES = 4;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const TRAILER_BYTES = IV_BYTES + 1;
/** The current receive key and a few older ones for frames still in flight. */
export const KEPT_RECEIVE_KEYS = 4;
/**
 * Replay protection per key: a frame counter is accepted once, and not when it lies this far
 * behind the highest one seen (audio and video share one counter and arrive interleaved).
 */
export const REPLAY_WINDOW = 4096;

/** @typedef {"audio" | "video"} MediaKind */

/**
 * What the worker needs of an encoded audio or video frame.
 * @typedef {{data: ArrayBuffer, type?: string}} Frame
 */

/**
 * How many bytes at the start of a frame stay clear.
 * @param {MediaKind} kind
 * @param {string | undefined} frameType "key" or "delta" for video
 */
export function clearBytes(kind, frameType) {
  if (kind === "audio") return 1;
  return frameType === "key" ? 10 : 3;
}

/**
 * Writes an IV (salt, then the counter as 64-bit big-endian) into `target` at `offset`.
 * @param {Uint8Array} target
 * @param {number} offset
 * @param {Uint8Array} salt
 * @param {number} counter
 */
export function writeIv(target, offset, salt, counter) {
  target.set(salt, offset);
  const view = new DataView(target.buffer, target.byteOffset + offset + SALT_BYTES, 8);
  view.setUint32(0, Math.floor(counter / 2 ** 32));
  view.setUint32(4, counter >>> 0);
}

/**
 * The frame counter of an IV.
 * @param {Uint8Array} iv
 */
export function ivCounter(iv) {
  const view = new DataView(iv.buffer, iv.byteOffset + SALT_BYTES, 8);
  return view.getUint32(0) * 2 ** 32 + view.getUint32(4);
}

/** The IVs of one send key: a random salt, then the frame counter from 0. */
export class IvSequence {
  /** @param {Uint8Array} [salt] */
  constructor(salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES))) {
    this.salt = salt;
    this.counter = 0;
    // One buffer for every frame: WebCrypto copies the IV when encrypt() is called, so the
    // next frame may write its own while the last one is still being encrypted.
    this.buffer = new Uint8Array(IV_BYTES);
    this.buffer.set(salt, 0);
    this.view = new DataView(this.buffer.buffer, SALT_BYTES, 8);
  }

  /**
   * The next IV, in the shared buffer (valid until the next call), and its counter.
   * @returns {{iv: Uint8Array<ArrayBuffer>, counter: number}}
   */
  next() {
    const counter = this.counter;
    this.counter += 1;
    this.view.setUint32(0, Math.floor(counter / 2 ** 32));
    this.view.setUint32(4, counter >>> 0);
    return { iv: this.buffer, counter };
  }
}

/**
 * Which frame counters of one key were seen: a bitmap over the last REPLAY_WINDOW counters.
 * `check` before decrypting, `accept` once the frame proved genuine.
 */
export class ReplayWindow {
  constructor(size = REPLAY_WINDOW) {
    this.size = size;
    this.seen = new Uint8Array(size);
    this.highest = -1;
  }

  /**
   * @param {number} counter
   * @returns {"new" | "duplicate" | "too-old"}
   */
  check(counter) {
    if (counter > this.highest) return "new";
    if (counter <= this.highest - this.size) return "too-old";
    return this.seen[counter % this.size] ? "duplicate" : "new";
  }

  /** @param {number} counter */
  accept(counter) {
    if (counter > this.highest) {
      // The slots between the old highest and this one belong to counters not seen yet.
      if (counter - this.highest >= this.size) this.seen.fill(0);
      else for (let c = this.highest + 1; c < counter; c += 1) this.seen[c % this.size] = 0;
      this.highest = counter;
    } else if (counter <= this.highest - this.size) {
      return; // fell out of the window while it was decrypted
    }
    this.seen[counter % this.size] = 1;
  }
}

/**
 * @typedef {object} SendKey
 * @property {number} index the key index byte in every frame
 * @property {number} generation
 * @property {CryptoKey} key
 * @property {IvSequence} ivs
 */

/**
 * @typedef {object} ReceiveKey
 * @property {CryptoKey} key
 * @property {number} generation
 * @property {ReplayWindow} replay
 */

export function newCounters() {
  return {
    encrypted: 0,
    decrypted: 0,
    audioEncrypted: 0,
    videoEncrypted: 0,
    audioDecrypted: 0,
    videoDecrypted: 0,
    decryptFailures: 0,
    missingKey: 0,
    replayed: 0,
    duplicates: 0,
    droppedWithoutKey: 0,
    sendKeyChanges: 0,
    receiveKeysInstalled: 0,
    sendGeneration: 0,
    receiveGeneration: 0,
  };
}

/** @typedef {ReturnType<typeof newCounters>} Counters */

/** The keys of one page's worker, and its frames through them. */
export class FrameCrypto {
  constructor() {
    /** @type {SendKey | null} */
    this.sendKey = null;
    /** @type {Map<number, ReceiveKey>} */
    this.receiveKeys = new Map();
    /** @type {CryptoKey | null} a test's wrong key, used for every receive key */
    this.wrongKey = null;
    this.counters = newCounters();
  }

  /**
   * From the next frame on, frames go out under this key.
   * @param {number} index
   * @param {number} generation
   * @param {CryptoKey} key
   */
  setSendKey(index, generation, key) {
    this.sendKey = { index, generation, key, ivs: new IvSequence() };
    this.counters.sendKeyChanges += 1;
    this.counters.sendGeneration = generation;
  }

  /**
   * Frames under this index decrypt with this key from now on; the oldest of more than
   * KEPT_RECEIVE_KEYS goes.
   * @param {number} index
   * @param {number} generation
   * @param {CryptoKey} key
   * @returns {boolean} false for a key installed already (a resent one)
   */
  addReceiveKey(index, generation, key) {
    if (this.receiveKeys.get(index)?.generation === generation) return false;
    this.receiveKeys.delete(index);
    this.receiveKeys.set(index, {
      key: this.wrongKey ?? key,
      generation,
      replay: new ReplayWindow(),
    });
    while (this.receiveKeys.size > KEPT_RECEIVE_KEYS) {
      const oldest = this.receiveKeys.keys().next();
      if (oldest.done) break;
      this.receiveKeys.delete(oldest.value);
    }
    this.counters.receiveKeysInstalled += 1;
    this.counters.receiveGeneration = generation;
    return true;
  }

  reset() {
    this.sendKey = null;
    this.receiveKeys.clear();
  }

  /** @param {CryptoKey} key */
  useWrongKeys(key) {
    this.wrongKey = key;
    for (const entry of this.receiveKeys.values()) entry.key = key;
  }

  /**
   * Encrypts the frame in place (its data is replaced).
   * @param {MediaKind} kind
   * @param {Frame} frame
   * @returns {Promise<boolean>} whether the frame is to be sent
   */
  async encrypt(kind, frame) {
    const sendKey = this.sendKey;
    if (sendKey === null) {
      // Before the other side holds our first key nothing is sent at all: never a clear frame.
      this.counters.droppedWithoutKey += 1;
      return false;
    }
    const data = new Uint8Array(frame.data);
    const clear = Math.min(clearBytes(kind, frame.type), data.length);
    const header = data.subarray(0, clear);
    const { iv, counter } = sendKey.ivs.next();
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: header },
      sendKey.key,
      data.subarray(clear),
    );
    // One copy of the payload, into the frame's new buffer. The IV is written from its counter:
    // the shared IV buffer may hold the next frame's by now.
    const out = new Uint8Array(clear + sealed.byteLength + TRAILER_BYTES);
    out.set(header, 0);
    out.set(new Uint8Array(sealed), clear);
    writeIv(out, clear + sealed.byteLength, sendKey.ivs.salt, counter);
    out[out.length - 1] = sendKey.index;
    frame.data = out.buffer;
    this.counters.encrypted += 1;
    if (kind === "audio") this.counters.audioEncrypted += 1;
    else this.counters.videoEncrypted += 1;
    return true;
  }

  /**
   * Decrypts the frame in place.
   * @param {MediaKind} kind
   * @param {Frame} frame
   * @returns {Promise<boolean>} whether the frame is genuine and to be played
   */
  async decrypt(kind, frame) {
    const counters = this.counters;
    const data = new Uint8Array(frame.data);
    const clear = clearBytes(kind, frame.type);
    if (data.length < clear + TAG_BYTES + TRAILER_BYTES) {
      counters.decryptFailures += 1;
      return false;
    }
    const entry = this.receiveKeys.get(data[data.length - 1]);
    if (entry === undefined) {
      counters.missingKey += 1;
      counters.decryptFailures += 1;
      return false;
    }
    const iv = data.subarray(data.length - TRAILER_BYTES, data.length - 1);
    const counter = ivCounter(iv);
    const seen = entry.replay.check(counter);
    if (seen === "duplicate") {
      // A second copy of a frame already played: redundant audio (RED) legitimately repeats
      // frames. Dropped without counting a failure; SRTP below already refuses network replays.
      counters.duplicates += 1;
      return false;
    }
    if (seen === "too-old") {
      counters.replayed += 1;
      counters.decryptFailures += 1;
      return false;
    }
    const header = data.subarray(0, clear);
    let plain;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: header },
        entry.key,
        data.subarray(clear, data.length - TRAILER_BYTES),
      );
    } catch {
      // Wrong key or a changed frame: the GCM tag does not match. The frame is dropped.
      counters.decryptFailures += 1;
      return false;
    }
    entry.replay.accept(counter);
    const out = new Uint8Array(clear + plain.byteLength);
    out.set(header, 0);
    out.set(new Uint8Array(plain), clear);
    frame.data = out.buffer;
    counters.decrypted += 1;
    if (kind === "audio") counters.audioDecrypted += 1;
    else counters.videoDecrypted += 1;
    return true;
  }
}

// Frame encryption for the video call (P-CALL-5). A dedicated worker: the page hands it frame
// keys as CryptoKey objects (they never leave the browser) and the encoded audio and video
// frames, through RTCRtpScriptTransform or, where only that exists, createEncodedStreams.
//
// An encrypted frame looks like this:
//   [clear header][AES-GCM ciphertext and 16-byte tag][12-byte IV][1-byte key index]
// The clear header is what the receiving depacketizer needs: 10 bytes of a VP8 key frame, 3 of
// a VP8 delta frame, 1 of an Opus frame (the same split Jitsi uses). It is authenticated as
// additional data, so it cannot be changed either. The IV is a random 4-byte salt per key
// followed by a 64-bit frame counter: never reused under one key.

const IV_BYTES = 12;
const TAG_BYTES = 16;
const TRAILER_BYTES = IV_BYTES + 1;
const KEPT_RECEIVE_KEYS = 4; // the current key and a few older ones for frames still in flight
// Replay protection per key: a frame counter is accepted once, and not when it lies this far
// behind the highest one seen (audio and video share one counter and arrive interleaved).
const REPLAY_WINDOW = 4096;

let sendKey = null;
const receiveKeys = new Map();
let wrongKey = null;

const counters = {
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

function clearBytes(kind, frame) {
  if (kind === "audio") return 1;
  return frame.type === "key" ? 10 : 3;
}

function nextIv(key) {
  const iv = new Uint8Array(IV_BYTES);
  iv.set(key.salt, 0);
  const view = new DataView(iv.buffer);
  view.setUint32(4, Math.floor(key.counter / 2 ** 32));
  view.setUint32(8, key.counter >>> 0);
  key.counter += 1;
  return iv;
}

async function encryptFrame(kind, frame, controller) {
  const key = sendKey;
  if (key === null) {
    // Before the other side holds our first key nothing is sent at all: never a clear frame.
    counters.droppedWithoutKey += 1;
    return;
  }
  const data = new Uint8Array(frame.data);
  const clear = Math.min(clearBytes(kind, frame), data.length);
  const iv = nextIv(key);
  const header = data.subarray(0, clear);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: header },
      key.key,
      data.subarray(clear),
    ),
  );
  const out = new Uint8Array(clear + sealed.length + TRAILER_BYTES);
  out.set(header, 0);
  out.set(sealed, clear);
  out.set(iv, clear + sealed.length);
  out[out.length - 1] = key.index;
  frame.data = out.buffer;
  counters.encrypted += 1;
  counters[`${kind}Encrypted`] += 1;
  controller.enqueue(frame);
}

async function decryptFrame(kind, frame, controller) {
  const data = new Uint8Array(frame.data);
  const clear = clearBytes(kind, frame);
  if (data.length < clear + TAG_BYTES + TRAILER_BYTES) {
    counters.decryptFailures += 1;
    return;
  }
  const entry = receiveKeys.get(data[data.length - 1]);
  if (entry === undefined) {
    counters.missingKey += 1;
    counters.decryptFailures += 1;
    return;
  }
  const iv = data.subarray(data.length - TRAILER_BYTES, data.length - 1);
  const view = new DataView(iv.buffer, iv.byteOffset, IV_BYTES);
  const frameCounter = view.getUint32(4) * 2 ** 32 + view.getUint32(8);
  if (entry.seen.has(frameCounter)) {
    // A second copy of a frame already played: redundant audio (RED) legitimately repeats
    // frames. Dropped without counting a failure; SRTP below already refuses network replays.
    counters.duplicates += 1;
    return;
  }
  if (frameCounter <= entry.highest - REPLAY_WINDOW) {
    counters.replayed += 1;
    counters.decryptFailures += 1;
    return;
  }
  const key = entry.key;
  let plain;
  try {
    plain = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: data.subarray(0, clear) },
        key,
        data.subarray(clear, data.length - TRAILER_BYTES),
      ),
    );
  } catch {
    // Wrong key or a changed frame: the GCM tag does not match. The frame is dropped.
    counters.decryptFailures += 1;
    return;
  }
  rememberCounter(entry, frameCounter);
  const out = new Uint8Array(clear + plain.length);
  out.set(data.subarray(0, clear), 0);
  out.set(plain, clear);
  frame.data = out.buffer;
  counters.decrypted += 1;
  counters[`${kind}Decrypted`] += 1;
  controller.enqueue(frame);
}

function attach(readable, writable, options) {
  const work = options.operation === "encrypt" ? encryptFrame : decryptFrame;
  const transform = new TransformStream({
    transform: (frame, controller) => work(options.kind, frame, controller),
  });
  readable
    .pipeThrough(transform)
    .pipeTo(writable)
    .catch(() => {}); // the peer connection closed
}

function rememberCounter(entry, frameCounter) {
  entry.seen.add(frameCounter);
  if (frameCounter > entry.highest) entry.highest = frameCounter;
  if (entry.seen.size > 2 * REPLAY_WINDOW) {
    for (const seen of entry.seen) {
      if (seen <= entry.highest - REPLAY_WINDOW) entry.seen.delete(seen);
    }
  }
}

function installReceiveKey(index, key) {
  if (receiveKeys.get(index)?.generation === key.generation) return false; // a resent key
  receiveKeys.delete(index);
  receiveKeys.set(index, {
    key: wrongKey ?? key.cryptoKey,
    generation: key.generation,
    seen: new Set(),
    highest: -1,
  });
  while (receiveKeys.size > KEPT_RECEIVE_KEYS) {
    receiveKeys.delete(receiveKeys.keys().next().value);
  }
  return true;
}

self.onrtctransform = (event) => {
  const transformer = event.transformer;
  attach(transformer.readable, transformer.writable, transformer.options);
};

self.onmessage = (event) => {
  const message = event.data;
  const reply = (data) => self.postMessage({ id: message.id, ...data });
  switch (message.op) {
    case "streams":
      attach(message.readable, message.writable, message.options);
      break;
    case "setSendKey":
      sendKey = {
        index: message.index,
        key: message.key,
        salt: crypto.getRandomValues(new Uint8Array(4)),
        counter: 0,
      };
      counters.sendKeyChanges += 1;
      counters.sendGeneration = message.generation;
      reply({ ok: true });
      break;
    case "addReceiveKey":
      if (installReceiveKey(message.index, { cryptoKey: message.key, generation: message.generation })) {
        counters.receiveKeysInstalled += 1;
        counters.receiveGeneration = message.generation;
      }
      reply({ ok: true });
      break;
    case "reset":
      sendKey = null;
      receiveKeys.clear();
      reply({ ok: true });
      break;
    case "counters":
      reply({ counters: { ...counters } });
      break;
    case "useWrongKeys":
      // Test hook: from now on this receiver holds a key the sender never used.
      wrongKey = message.key;
      for (const entry of receiveKeys.values()) entry.key = wrongKey;
      reply({ ok: true });
      break;
    default:
      reply({ error: "unknown operation" });
  }
};

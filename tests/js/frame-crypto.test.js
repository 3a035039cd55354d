// @ts-check
// The frame format of the call's encryption (calls/frame-crypto.js): IVs, replay protection,
// and frames through encryption and decryption as the worker runs them, with Node's WebCrypto.
import "./webcrypto.js";

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  FrameCrypto,
  IV_BYTES,
  IvSequence,
  REPLAY_WINDOW,
  ReplayWindow,
  TAG_BYTES,
  TRAILER_BYTES,
  clearBytes,
  ivCounter,
  writeIv,
} from "../../src/treffpunkt/calls/static/treffpunkt/calls/frame-crypto.js";

/** @typedef {import("../../src/treffpunkt/calls/static/treffpunkt/calls/frame-crypto.js").Frame} Frame */

async function frameKey() {
  return crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt", "decrypt"]);
}

/**
 * @param {number[] | Uint8Array} bytes
 * @param {string} [type]
 * @returns {Frame}
 */
function frame(bytes, type) {
  return { data: new Uint8Array(bytes).buffer, type };
}

/** @param {Frame} f */
const bytesOf = (f) => new Uint8Array(f.data);

/** A sender and a receiver holding the same key under index 1. */
async function sides() {
  const key = await frameKey();
  const sender = new FrameCrypto();
  const receiver = new FrameCrypto();
  sender.setSendKey(1, 1, key);
  receiver.addReceiveKey(1, 1, key);
  return { key, sender, receiver };
}

describe("IVs", () => {
  test("salt, then the frame counter as 64 bits big-endian", () => {
    const salt = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    const ivs = new IvSequence(salt);
    const first = ivs.next();
    assert.equal(first.counter, 0);
    assert.deepEqual([...first.iv], [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0, 0, 0, 0]);
    ivs.counter = 2 ** 32 + 5;
    const later = ivs.next();
    assert.deepEqual([...later.iv], [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 0, 0, 0, 5]);
    assert.equal(ivCounter(later.iv), 2 ** 32 + 5);
    assert.equal(later.iv.length, IV_BYTES);
  });

  test("one buffer for every frame: the next IV overwrites it", () => {
    const ivs = new IvSequence();
    const a = ivs.next();
    const b = ivs.next();
    assert.equal(a.iv, b.iv);
    assert.equal(ivCounter(b.iv), 1);
  });

  test("unique per frame under one key, and per key by its salt", () => {
    const seen = new Set();
    const ivs = new IvSequence();
    for (let n = 0; n < 1000; n += 1) seen.add(Buffer.from(ivs.next().iv).toString("hex"));
    assert.equal(seen.size, 1000);
    // A new key (generation) gets a new random salt: its IVs differ from the old key's.
    const salts = new Set();
    for (let n = 0; n < 50; n += 1) salts.add(Buffer.from(new IvSequence().salt).toString("hex"));
    assert.equal(salts.size, 50);
  });

  test("writeIv puts the same bytes anywhere in a frame", () => {
    const salt = new Uint8Array([1, 2, 3, 4]);
    const target = new Uint8Array(20);
    writeIv(target, 5, salt, 258);
    assert.deepEqual([...target.subarray(5, 17)], [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 1, 2]);
    assert.equal(ivCounter(target.subarray(5, 17)), 258);
  });
});

describe("replay window", () => {
  test("a counter is accepted once", () => {
    const window = new ReplayWindow(8);
    assert.equal(window.check(3), "new");
    window.accept(3);
    assert.equal(window.check(3), "duplicate");
  });

  test("reordering within the window is accepted", () => {
    const window = new ReplayWindow(8);
    for (const counter of [0, 2, 1, 5, 3, 4, 9, 7]) {
      assert.equal(window.check(counter), "new", `counter ${counter}`);
      window.accept(counter);
    }
    for (const counter of [2, 5, 9, 7]) assert.equal(window.check(counter), "duplicate");
    assert.equal(window.check(8), "new", "skipped, still inside");
    assert.equal(window.check(6), "new");
  });

  test("a counter too far behind the highest is refused", () => {
    const window = new ReplayWindow(8);
    window.accept(20);
    assert.equal(window.check(12), "too-old");
    assert.equal(window.check(13), "new");
    window.accept(13);
    window.accept(40); // a jump past the whole window forgets everything before
    assert.equal(window.check(13), "too-old");
    assert.equal(window.check(33), "new");
  });

  test("slots are cleared as the window moves on", () => {
    const window = new ReplayWindow(8);
    window.accept(1);
    window.accept(10);
    assert.equal(window.check(9), "new", "9 shares the slot of 1, which the move cleared");
    assert.equal(window.check(10), "duplicate");
  });

  test("a counter that fell out while it was decrypted leaves no mark", () => {
    const window = new ReplayWindow(8);
    window.accept(5);
    window.accept(20);
    window.accept(5); // too old by now
    assert.equal(window.check(13), "new", "13 shares the slot of 5");
  });
});

describe("frames", () => {
  test("the clear header: 1 byte of audio, 10 of a video key frame, 3 of a delta frame", () => {
    assert.equal(clearBytes("audio", undefined), 1);
    assert.equal(clearBytes("video", "key"), 10);
    assert.equal(clearBytes("video", "delta"), 3);
  });

  test("an encrypted frame: header, ciphertext and tag, IV, key index", async () => {
    const { sender } = await sides();
    const payload = Array.from({ length: 40 }, (_, n) => n);
    const video = frame(payload, "key");
    assert.equal(await sender.encrypt("video", video), true);
    const out = bytesOf(video);
    assert.equal(out.length, 40 + TAG_BYTES + TRAILER_BYTES);
    assert.deepEqual([...out.subarray(0, 10)], payload.slice(0, 10), "the clear header");
    assert.notDeepEqual([...out.subarray(10, 40)], payload.slice(10), "encrypted");
    const iv = out.subarray(out.length - TRAILER_BYTES, out.length - 1);
    assert.deepEqual([...iv.subarray(0, 4)], [...(sender.sendKey?.ivs.salt ?? [])]);
    assert.equal(ivCounter(iv), 0);
    assert.equal(out[out.length - 1], 1, "the key index");
  });

  test("frames go through encryption and decryption unchanged", async () => {
    const { sender, receiver } = await sides();
    for (const [kind, type, bytes] of /** @type {const} */ ([
      ["audio", undefined, [7, 1, 2, 3, 4, 5]],
      ["video", "key", Array.from({ length: 300 }, (_, n) => n % 256)],
      ["video", "delta", [9, 9, 9, 1]],
      ["audio", undefined, [1]],
    ])) {
      const f = frame([...bytes], type);
      assert.equal(await sender.encrypt(kind, f), true);
      assert.equal(await receiver.decrypt(kind, f), true);
      assert.deepEqual([...bytesOf(f)], bytes);
    }
    assert.equal(receiver.counters.decrypted, 4);
    assert.equal(receiver.counters.audioDecrypted, 2);
    assert.equal(sender.counters.videoEncrypted, 2);
    assert.equal(receiver.counters.decryptFailures, 0);
  });

  test("frames encrypted at the same time each keep their own IV", async () => {
    const { sender, receiver } = await sides();
    const frames = Array.from({ length: 20 }, (_, n) => frame([n, n, n, n, n], n % 2 ? "delta" : undefined));
    await Promise.all(frames.map((f, n) => sender.encrypt(n % 2 ? "video" : "audio", f)));
    const counters = frames.map((f) => {
      const out = bytesOf(f);
      return ivCounter(out.subarray(out.length - TRAILER_BYTES, out.length - 1));
    });
    assert.deepEqual(counters, Array.from({ length: 20 }, (_, n) => n));
    for (const [n, f] of frames.entries()) {
      assert.equal(await receiver.decrypt(n % 2 ? "video" : "audio", f), true, `frame ${n}`);
      assert.deepEqual([...bytesOf(f)], [n, n, n, n, n]);
    }
  });

  test("nothing goes out before there is a send key", async () => {
    const sender = new FrameCrypto();
    const f = frame([1, 2, 3]);
    assert.equal(await sender.encrypt("audio", f), false);
    assert.equal(sender.counters.droppedWithoutKey, 1);
  });

  test("a replayed frame is dropped, a reordered one played", async () => {
    const { sender, receiver } = await sides();
    const frames = [frame([1, 1]), frame([2, 2]), frame([3, 3])];
    for (const f of frames) await sender.encrypt("audio", f);
    const copies = frames.map((f) => f.data.slice(0));
    assert.equal(await receiver.decrypt("audio", frame(new Uint8Array(copies[0]))), true);
    assert.equal(await receiver.decrypt("audio", frame(new Uint8Array(copies[2]))), true);
    assert.equal(await receiver.decrypt("audio", frame(new Uint8Array(copies[1]))), true, "reordered");
    assert.equal(await receiver.decrypt("audio", frame(new Uint8Array(copies[2]))), false, "again");
    assert.equal(receiver.counters.duplicates, 1);
    assert.equal(receiver.counters.decryptFailures, 0);
  });

  test("a frame older than the replay window is refused", async () => {
    const { sender, receiver } = await sides();
    const old = frame([5, 5, 5]);
    await sender.encrypt("audio", old);
    const sendKey = sender.sendKey;
    assert.ok(sendKey);
    sendKey.ivs.counter = REPLAY_WINDOW + 10;
    const recent = frame([6, 6, 6]);
    await sender.encrypt("audio", recent);
    assert.equal(await receiver.decrypt("audio", recent), true);
    assert.equal(await receiver.decrypt("audio", old), false);
    assert.equal(receiver.counters.replayed, 1);
    assert.equal(receiver.counters.decryptFailures, 1);
  });

  test("a changed header, a changed byte or the wrong key fail the tag", async () => {
    const { sender, receiver } = await sides();
    const make = async () => {
      const f = frame([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], "key");
      await sender.encrypt("video", f);
      return f;
    };
    const header = await make();
    bytesOf(header)[0] ^= 1;
    assert.equal(await receiver.decrypt("video", header), false);
    const body = await make();
    bytesOf(body)[11] ^= 1;
    assert.equal(await receiver.decrypt("video", body), false);
    const genuine = await make();
    receiver.useWrongKeys(await frameKey());
    assert.equal(await receiver.decrypt("video", genuine), false);
    assert.equal(receiver.counters.decryptFailures, 3);
    assert.equal(receiver.counters.decrypted, 0);
  });

  test("an unknown key index or a short frame is a failure", async () => {
    const { sender, receiver } = await sides();
    const f = frame([1, 2, 3]);
    await sender.encrypt("audio", f);
    bytesOf(f)[f.data.byteLength - 1] = 7;
    assert.equal(await receiver.decrypt("audio", f), false);
    assert.equal(receiver.counters.missingKey, 1);
    assert.equal(await receiver.decrypt("audio", frame([1, 2, 3])), false);
    assert.equal(receiver.counters.decryptFailures, 2);
  });

  test("a resent key is installed once; the oldest of five keys goes", async () => {
    const receiver = new FrameCrypto();
    const key = await frameKey();
    assert.equal(receiver.addReceiveKey(1, 1, key), true);
    assert.equal(receiver.addReceiveKey(1, 1, key), false);
    for (let generation = 2; generation <= 5; generation += 1) {
      receiver.addReceiveKey(generation % 256, generation, key);
    }
    assert.deepEqual([...receiver.receiveKeys.keys()], [2, 3, 4, 5]);
    assert.equal(receiver.counters.receiveKeysInstalled, 5);
    assert.equal(receiver.counters.receiveGeneration, 5);
  });
});

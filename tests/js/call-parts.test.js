// @ts-check
// The small pure parts of the call page: SDP fingerprints, connection quality, base64.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { fromBase64, toBase64 } from "../../src/treffpunkt/calls/static/treffpunkt/calls/encoding.js";
import {
  fingerprintText,
  sdpFingerprint,
} from "../../src/treffpunkt/calls/static/treffpunkt/calls/peer-connection.js";
import { qualityOf, summarizeStats } from "../../src/treffpunkt/calls/static/treffpunkt/calls/stats.js";

describe("DTLS fingerprints", () => {
  test("a certificate's SHA-256 fingerprint, upper case", () => {
    assert.equal(
      fingerprintText([
        { algorithm: "sha-1", value: "aa" },
        { algorithm: "sha-256", value: "ab:cd" },
      ]),
      "sha-256 AB:CD",
    );
  });

  test("one fingerprint in an SDP, however often it is named", () => {
    const sdp = "v=0\r\na=fingerprint:SHA-256 ab:cd\r\nm=audio\r\na=fingerprint:sha-256 AB:CD\r\n";
    assert.equal(sdpFingerprint(sdp), "sha-256 AB:CD");
  });

  test("two different fingerprints, or none, give nothing", () => {
    assert.equal(sdpFingerprint("a=fingerprint:sha-256 AB\r\na=fingerprint:sha-256 CD\r\n"), "");
    assert.equal(sdpFingerprint("v=0\r\n"), "");
  });
});

describe("connection quality", () => {
  test("thresholds", () => {
    assert.equal(qualityOf(100, 1), "good");
    assert.equal(qualityOf(200, 1), "fair");
    assert.equal(qualityOf(100, 5), "fair");
    assert.equal(qualityOf(500, 0), "poor");
    assert.equal(qualityOf(100, 9), "poor");
  });

  /** @param {any[]} entries */
  const report = (entries) => {
    const map = new Map(entries.map((entry) => [entry.id, entry]));
    return { forEach: (/** @type {(entry: any) => void} */ f) => map.forEach(f), get: (/** @type {string} */ id) => map.get(id) };
  };

  test("figures from two reads", () => {
    /** @param {number} lost @param {number} received @param {number} bytes */
    const read = (lost, received, bytes) =>
      report([
        { id: "t", type: "transport", selectedCandidatePairId: "p", bytesReceived: bytes, bytesSent: 7 },
        { id: "p", type: "candidate-pair", localCandidateId: "l", remoteCandidateId: "r", currentRoundTripTime: 0.05 },
        { id: "l", type: "local-candidate", candidateType: "host" },
        { id: "r", type: "remote-candidate", candidateType: "relay" },
        { id: "v", type: "inbound-rtp", kind: "video", packetsLost: lost, packetsReceived: received, framesDecoded: 40 },
      ]);
    const first = summarizeStats(read(0, 100, 1000), null, 0);
    assert.equal(first.figures, null);
    assert.equal(first.path, "relay");
    assert.equal(first.framesDecoded, 40);
    const second = summarizeStats(read(2, 198, 26000), first.totals, 2000);
    assert.deepEqual(second.figures, { rtt: 50, loss: 2, kbps: 100, quality: "fair" });
    assert.deepEqual(second.traffic, { bytesSent: 7, bytesReceived: 26000 });
  });

  test("before a candidate pair is chosen: no path, no figures", () => {
    const summary = summarizeStats(report([{ id: "t", type: "transport" }]), { lost: 0, received: 0, bytes: 0, at: 0 }, 1);
    assert.equal(summary.path, "");
    assert.equal(summary.figures, null);
  });
});

test("base64 both ways", () => {
  const bytes = new Uint8Array([0, 1, 2, 250, 255]);
  assert.equal(toBase64(bytes), Buffer.from(bytes).toString("base64"));
  assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
  assert.equal(toBase64(bytes.subarray(3).buffer), "AAEC+v8=");
  assert.equal(toBase64(bytes.subarray(3)), "+v8=");
});

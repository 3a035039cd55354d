// @ts-check
// Connection quality (P-CALL-6) from a peer connection's statistics, read every 2 s: round
// trip, loss, incoming rate, and whether the media goes directly or through the relay. The
// byte counts also go to the call record (P-CALL-7). No DOM here: the page shows the result.

/**
 * Running totals of one read, to compare with the next.
 * @typedef {{lost: number, received: number, bytes: number, at: number}} StatsTotals
 */

/**
 * @typedef {object} StatsSummary
 * @property {StatsTotals} totals
 * @property {"direct" | "relay" | ""} path "" while no candidate pair is chosen
 * @property {number} framesDecoded of the incoming video
 * @property {{rtt: number, loss: number, kbps: number, quality: "good" | "fair" | "poor"} | null}
 *   figures null on the first read or without a candidate pair
 * @property {{bytesSent: number, bytesReceived: number} | null} traffic null without transport
 */

/**
 * "good" below 150 ms and 2 % loss, "fair" below 400 ms and 8 %, else "poor".
 * @param {number} rtt milliseconds
 * @param {number} loss percent
 */
export function qualityOf(rtt, loss) {
  if (rtt < 150 && loss < 2) return "good";
  if (rtt < 400 && loss < 8) return "fair";
  return "poor";
}

/**
 * @param {{forEach(callback: (entry: any) => void): void, get(id: string): any}} report
 *   an RTCStatsReport
 * @param {StatsTotals | null} before the last read's totals
 * @param {number} now milliseconds (performance.now())
 * @returns {StatsSummary}
 */
export function summarizeStats(report, before, now) {
  let transport = null;
  /** @type {any[]} */
  const inbound = [];
  let video = null;
  report.forEach((entry) => {
    if (entry.type === "transport") transport = entry;
    if (entry.type === "inbound-rtp") {
      inbound.push(entry);
      if (entry.kind === "video") video = entry;
    }
  });
  /** @type {any} */
  const chosen = transport;
  const pair = chosen?.selectedCandidatePairId ? report.get(chosen.selectedCandidatePairId) : null;
  const local = pair ? report.get(pair.localCandidateId) : null;
  const remote = pair ? report.get(pair.remoteCandidateId) : null;
  const relayed = local?.candidateType === "relay" || remote?.candidateType === "relay";
  const totals = {
    lost: inbound.reduce((sum, entry) => sum + (entry.packetsLost ?? 0), 0),
    received: inbound.reduce((sum, entry) => sum + (entry.packetsReceived ?? 0), 0),
    bytes: chosen?.bytesReceived ?? 0,
    at: now,
  };
  /** @type {any} */
  const incoming = video;
  /** @type {StatsSummary} */
  const summary = {
    totals,
    path: pair ? (relayed ? "relay" : "direct") : "",
    framesDecoded: incoming?.framesDecoded ?? 0,
    figures: null,
    traffic: chosen
      ? { bytesSent: chosen.bytesSent ?? 0, bytesReceived: chosen.bytesReceived ?? 0 }
      : null,
  };
  if (!before || !pair) return summary;
  const lost = totals.lost - before.lost;
  const packets = lost + totals.received - before.received;
  const loss = packets > 0 ? (100 * lost) / packets : 0;
  const kbps = ((totals.bytes - before.bytes) * 8) / (now - before.at);
  const rtt = (pair.currentRoundTripTime ?? 0) * 1000;
  summary.figures = { rtt, loss, kbps, quality: qualityOf(rtt, loss) };
  return summary;
}

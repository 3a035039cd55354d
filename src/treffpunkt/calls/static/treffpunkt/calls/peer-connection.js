// @ts-check
// One peer connection of the call (P-CALL-4 … P-CALL-6) and everything that lives exactly as
// long as it: the signalling through the server, the key agreement, the frame keys on the data
// channel. A rebuilt connection (reload of the other side, a new start) is a new object; closing
// one leaves nothing behind. The staff side makes the offer.
import { KeyAgreement, KeyAgreementError } from "./key-agreement.js";
import { KeyRotation } from "./key-rotation.js";

/** @typedef {import("./worker-bridge.js").WorkerBridge} WorkerBridge */
/** @typedef {import("./key-agreement.js").Role} Role */

/**
 * The server's "start" event: the call session and how to connect.
 * @typedef {object} CallStart
 * @property {number | string} session
 * @property {boolean} offerer
 * @property {boolean} [resume]
 * @property {RTCIceServer[]} iceServers
 * @property {RTCIceTransportPolicy} iceTransportPolicy
 * @property {number} rotationSeconds
 */

/**
 * A signalling frame relayed from the other side.
 * @typedef {object} SignalFrame
 * @property {"offer" | "answer" | "ice" | "commit" | "pubkey" | "restart_ice"} type
 * @property {string} [sdp]
 * @property {string} [candidate]
 * @property {string | null} [sdpMid]
 * @property {number | null} [sdpMLineIndex]
 * @property {string} [hash]
 * @property {string} [key]
 */

/**
 * @typedef {object} ConnectionOptions
 * @property {CallStart} start
 * @property {Role} role
 * @property {WorkerBridge | null} bridge null: media without frame encryption (benchmarks)
 * @property {(frame: object) => void} send to the call socket
 * @property {(step: () => Promise<void>) => void} enqueue
 * @property {(kind: "audio" | "video") => MediaStreamTrack} outgoingTrack
 * @property {(connection: CallConnection) => void} onIceState
 * @property {() => void} onKeysChanged a frame key generation changed
 * @property {(code: string) => void} onVerified the keys are agreed: the verification code
 * @property {(reason: string) => void} onFailure the encryption cannot be trusted: end it
 * @property {(key: CryptoKey) => void} [onNewKey] test hook
 */

/**
 * "sha-256 AB:CD:…" of a certificate's fingerprints (SHA-256 where there is one).
 * @param {RTCDtlsFingerprint[]} fingerprints
 */
export function fingerprintText(fingerprints) {
  const sha256 = fingerprints.find((item) => item.algorithm === "sha-256") ?? fingerprints[0];
  return `${sha256?.algorithm ?? ""} ${(sha256?.value ?? "").toUpperCase()}`;
}

/**
 * The DTLS fingerprint of an SDP. Every fingerprint line must name the same certificate: one
 * the browser's DTLS uses and another that matches the commitment would defeat the check. None
 * or several different ones give "", which never matches a commitment.
 * @param {string} sdp
 */
export function sdpFingerprint(sdp) {
  const found = new Set(
    [...sdp.matchAll(/^a=fingerprint:(\S+) (\S+)/gm)].map(
      (match) => `${match[1].toLowerCase()} ${match[2].toUpperCase()}`,
    ),
  );
  return found.size === 1 ? [...found][0] : "";
}

/**
 * The clear-header sizes of the frame format are VP8's: keep video on VP8.
 * @param {RTCPeerConnection} pc
 */
function preferVp8(pc) {
  const capabilities = RTCRtpReceiver.getCapabilities?.("video");
  if (!capabilities) return;
  const vp8 = capabilities.codecs.filter((codec) => /video\/(vp8|rtx)/i.test(codec.mimeType));
  for (const transceiver of pc.getTransceivers()) {
    if (transceiver.receiver.track.kind === "video" && vp8.length) {
      transceiver.setCodecPreferences(vp8);
    }
  }
}

export class CallConnection {
  /** @param {ConnectionOptions} options */
  constructor(options) {
    this.options = options;
    this.start = options.start;
    /** An id for the traffic reports of this connection (P-CALL-7). */
    this.id = crypto.randomUUID();
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {RTCDataChannel | null} */
    this.channel = null;
    /** @type {RTCRtpSender | null} */
    this.audioSender = null;
    /** @type {RTCRtpSender | null} */
    this.videoSender = null;
    /** @type {RTCIceCandidateInit[]} candidates that came before the remote description */
    this.pendingCandidates = [];
    /** @type {KeyAgreement | null} */
    this.agreement = null;
    /** @type {KeyRotation | null} */
    this.rotation = null;
    this.verificationCode = "";
    /** @type {{lost: number, received: number, bytes: number, at: number} | null} */
    this.lastStats = null;
    this.closed = false;
  }

  get encrypted() {
    return this.options.bridge !== null;
  }

  /** Sets the connection up, commits to this side's key and, on the staff side, offers. */
  async build() {
    const { bridge, send, enqueue, outgoingTrack } = this.options;
    const certificate = await RTCPeerConnection.generateCertificate(
      /** @type {EcKeyGenParams} */ ({ name: "ECDSA", namedCurve: "P-256" }),
    );
    /** @type {RTCConfiguration & {encodedInsertableStreams?: boolean}} */
    const pcConfig = {
      iceServers: this.start.iceServers,
      iceTransportPolicy: this.start.iceTransportPolicy,
      certificates: [certificate],
    };
    if (bridge?.access === "encoded-streams") pcConfig.encodedInsertableStreams = true;
    const pc = new RTCPeerConnection(pcConfig);
    this.pc = pc;
    if (bridge) await bridge.ask({ op: "reset" });

    const stream = new MediaStream();
    this.audioSender = pc.addTrack(outgoingTrack("audio"), stream);
    this.videoSender = pc.addTrack(outgoingTrack("video"), stream);
    preferVp8(pc);
    if (bridge) {
      // Receivers get their transform now, before offer and answer: attached later (in
      // ontrack) they would see no frames in Chromium.
      bridge.attach(this.audioSender, "encrypt", "audio");
      bridge.attach(this.videoSender, "encrypt", "video");
      for (const receiver of pc.getReceivers()) {
        bridge.attach(receiver, "decrypt", receiver.track.kind === "audio" ? "audio" : "video");
      }
    }

    pc.addEventListener("icecandidate", ({ candidate }) => {
      if (candidate && candidate.candidate) {
        send({
          type: "ice",
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex,
        });
      }
    });
    pc.addEventListener("iceconnectionstatechange", () => this.options.onIceState(this));

    // Negotiated on both sides with the same id: no announcement through the server needed.
    const channel = pc.createDataChannel("keys", { negotiated: true, id: 0, ordered: true });
    this.channel = channel;
    channel.addEventListener("open", () => enqueue(async () => this.rotation?.start()));
    channel.addEventListener("message", (message) =>
      enqueue(async () => this.rotation?.receive(String(message.data))),
    );

    if (bridge) {
      const agreement = await KeyAgreement.create({
        session: this.start.session,
        role: this.options.role,
        fingerprint: fingerprintText(certificate.getFingerprints()),
      });
      this.agreement = agreement;
      this.rotation = new KeyRotation({
        agreement,
        channel,
        ask: (request) => bridge.ask(request),
        rotationSeconds: this.start.rotationSeconds,
        enqueue,
        onChange: this.options.onKeysChanged,
        onFailure: this.options.onFailure,
        onNewKey: this.options.onNewKey,
      });
      send({ type: "commit", hash: agreement.commitment });
      agreement.commitSent = true;
      this.revealPublicKey();
    }
    if (this.start.offerer) {
      await pc.setLocalDescription(await pc.createOffer());
      send({ type: "offer", sdp: pc.localDescription?.sdp });
    }
  }

  /** The other side's tracks, as one stream for the video element. */
  remoteStream() {
    return new MediaStream(this.pc?.getReceivers().map((receiver) => receiver.track) ?? []);
  }

  /** @returns {RTCIceConnectionState | ""} */
  get iceState() {
    return this.pc?.iceConnectionState ?? "";
  }

  /** @param {SignalFrame} frame */
  async onSignal(frame) {
    const pc = this.pc;
    if (pc === null || this.closed) return;
    switch (frame.type) {
      case "offer":
        await pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        this.options.send({ type: "answer", sdp: pc.localDescription?.sdp });
        await this.addPendingCandidates();
        await this.checkPeer();
        break;
      case "answer":
        if (pc.signalingState !== "have-local-offer") return;
        await pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
        await this.addPendingCandidates();
        await this.checkPeer();
        break;
      case "ice": {
        const candidate = {
          candidate: frame.candidate,
          sdpMid: frame.sdpMid,
          sdpMLineIndex: frame.sdpMLineIndex,
        };
        if (pc.remoteDescription) await pc.addIceCandidate(candidate).catch(() => {});
        else this.pendingCandidates.push(candidate);
        break;
      }
      case "commit":
        if (this.agreement === null || typeof frame.hash !== "string") return;
        if (!this.agreed(() => this.agreement?.takeCommitment(String(frame.hash)))) return;
        this.revealPublicKey();
        break;
      case "pubkey": {
        if (this.agreement === null || typeof frame.key !== "string") return;
        const key = frame.key;
        const taken = this.agreed(() => this.agreement?.takePublicKey(key));
        if (taken === "taken") await this.checkPeer();
        break;
      }
      case "restart_ice":
        if (this.start.offerer) await this.restartIce();
        break;
      default:
        break;
    }
  }

  /** Asks for (member side) or makes (staff side) an ICE restart. */
  async restartIce() {
    const pc = this.pc;
    if (pc === null || this.closed) return;
    if (!this.start.offerer) {
      this.options.send({ type: "restart_ice" });
      return;
    }
    pc.restartIce();
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
    this.options.send({ type: "offer", sdp: pc.localDescription?.sdp });
  }

  close() {
    this.closed = true;
    this.rotation?.close();
    this.channel?.close();
    this.pc?.close();
    this.pendingCandidates = [];
  }

  /**
   * Runs a step of the key agreement; a refusal ends the encryption.
   * @template T
   * @param {() => T} step
   * @returns {T | undefined}
   * @private
   */
  agreed(step) {
    try {
      return step();
    } catch (error) {
      if (!(error instanceof KeyAgreementError)) throw error;
      this.options.onFailure(error.message);
      return undefined;
    }
  }

  /** Only after the other side has committed to its key. @private */
  revealPublicKey() {
    const key = this.agreement?.keyToReveal();
    if (key) this.options.send({ type: "pubkey", key });
  }

  /** @private */
  async addPendingCandidates() {
    const waiting = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of waiting) await this.pc?.addIceCandidate(candidate).catch(() => {});
  }

  /**
   * Once the other side's key and its DTLS fingerprint are both known: check them against the
   * commitment, derive the wrapping key, show the verification code, exchange frame keys.
   * @private
   */
  async checkPeer() {
    const agreement = this.agreement;
    const sdp = this.pc?.remoteDescription?.sdp;
    if (agreement === null || !agreement.canDerive || !sdp) return;
    try {
      await agreement.derive(sdpFingerprint(sdp));
    } catch (error) {
      if (!(error instanceof KeyAgreementError)) throw error;
      this.options.onFailure(error.message);
      return;
    }
    if (this.closed) return;
    this.verificationCode = await agreement.verificationCode();
    this.options.onVerified(this.verificationCode);
    // Keys travel peer to peer and may overtake the public key, which comes through the server.
    await this.rotation?.keysAgreed();
  }
}

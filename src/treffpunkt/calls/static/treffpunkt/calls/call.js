// The video call page (P-CALL-1 … P-CALL-6).
//
// 1. Before the call: camera preview, microphone level, device choice; the page joins the call
//    socket, which tells who is here. When both are, the start window opens on both screens.
// 2. "Gespräch starten": the server starts the call only when both have pressed.
// 3. The call: one RTCPeerConnection, media directly between the browsers. The staff side
//    makes the offer. Every audio and video frame passes the encryption worker.
// 4. Keys: each side makes an ECDH key pair and sends first a hash of its public key and DTLS
//    fingerprint, then the key itself, through the server. Frame keys are random, wrapped under
//    the ECDH-derived key and sent over the peer-to-peer data channel, never through the server.
//    Each side makes a new frame key every `rotationSeconds`; the receiver installs it and
//    acknowledges before the sender switches to it.

const config = JSON.parse(document.getElementById("call-config").textContent);
const S = config.strings;
const byId = (id) => document.getElementById(id);
// The strings come from Django's catalogue in Python's format: %(name)s, and %% for a "%".
const fill = (text, values = {}) =>
  text.replace(/%\((\w+)\)s|%%/g, (match, name) => (name ? (values[name] ?? "") : "%"));
const withName = (text) => fill(text, { name: config.otherName });
const utf8 = (text) => new TextEncoder().encode(text);
const toBase64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

const ui = {
  status: byId("call-status"),
  alert: byId("call-alert"),
  prejoin: byId("prejoin"),
  preview: byId("preview-video"),
  cameraSelect: byId("camera-select"),
  microphoneSelect: byId("microphone-select"),
  micLevel: byId("mic-level"),
  dialog: byId("start-dialog"),
  startButton: byId("start-button"),
  startLater: byId("start-later"),
  startWaiting: byId("start-waiting"),
  startAgain: byId("start-again"),
  startAgainButton: byId("start-again-button"),
  inCall: byId("in-call"),
  remoteVideo: byId("remote-video"),
  localVideo: byId("local-video"),
  muteButton: byId("mute-button"),
  cameraButton: byId("camera-button"),
  shareButton: byId("share-button"),
  hangupButton: byId("hangup-button"),
  e2eeState: byId("e2ee-state"),
  keyGeneration: byId("key-generation"),
  verification: byId("verification-code"),
  quality: byId("connection-quality"),
  ended: byId("call-ended"),
  endedText: byId("ended-text"),
  unsupported: byId("call-unsupported"),
};

const plain = config.plainMedia === true;
const useScriptTransform = "RTCRtpScriptTransform" in window;
const useEncodedStreams =
  !useScriptTransform &&
  "RTCRtpSender" in window &&
  "createEncodedStreams" in RTCRtpSender.prototype;
const canEncrypt = (useScriptTransform || useEncodedStreams) && Boolean(window.crypto?.subtle);

const state = {
  socket: null,
  socketAttempt: 0,
  heartbeat: null,
  stopped: false,
  role: config.role,
  presence: null,
  pressed: false,
  dialogDismissed: false,
  inCall: false,
  start: null,
  pc: null,
  pcId: "",
  keyChannel: null,
  pendingCandidates: [],
  worker: null,
  workerCalls: new Map(),
  workerCallId: 0,
  stream: null,
  micTrack: null,
  cameraTrack: null,
  screenTrack: null,
  placeholders: {},
  audioSender: null,
  videoSender: null,
  ecdh: null,
  ownPublic: null,
  ownFingerprint: "",
  peerCommit: null,
  peerPublic: null,
  commitSent: false,
  publicSent: false,
  wrapKey: null,
  sendGeneration: 0,
  peerGeneration: 0,
  pendingKeys: new Map(),
  earlyKeyMessages: [],
  keyResendTimer: null,
  rotationTimer: null,
  statsTimer: null,
  lastStats: null,
  lastReport: 0,
  iceRestartTimer: null,
  verificationCode: "",
  shownCode: "",
  keysForTests: [],
  pressedAt: null,
  firstRemoteFrameAt: null,
  queue: Promise.resolve(),
};

// Everything that changes the call runs one step after the other, in arrival order.
function enqueue(step) {
  state.queue = state.queue.then(step).catch((error) => console.error("call step failed", error));
  return state.queue;
}

function say(text) {
  ui.status.textContent = text;
}

function warn(text) {
  ui.alert.textContent = text;
  ui.alert.hidden = !text;
}

// --- devices --------------------------------------------------------------------------------

function placeholderTrack(kind) {
  // A silent or black track where a device is missing, so the connection has the same shape
  // (and the same encryption) either way.
  if (state.placeholders[kind]) return state.placeholders[kind];
  let track;
  if (kind === "audio") {
    const context = new AudioContext();
    track = context.createMediaStreamDestination().stream.getAudioTracks()[0];
  } else {
    const canvas = Object.assign(document.createElement("canvas"), { width: 320, height: 240 });
    const paint = canvas.getContext("2d");
    paint.fillStyle = "#111";
    paint.fillRect(0, 0, canvas.width, canvas.height);
    track = canvas.captureStream(1).getVideoTracks()[0];
  }
  state.placeholders[kind] = track;
  return track;
}

function describeDeviceError(error) {
  if (error.name === "NotAllowedError" || error.name === "SecurityError") return S.deviceBlocked;
  if (error.name === "NotReadableError" || error.name === "AbortError") return S.deviceBusy;
  return S.deviceMissing;
}

async function openDevices() {
  const camera = ui.cameraSelect.value;
  const microphone = ui.microphoneSelect.value;
  const video = { width: { ideal: 640 }, height: { ideal: 480 } };
  if (camera) video.deviceId = { exact: camera };
  const audio = microphone ? { deviceId: { exact: microphone } } : true;
  for (const track of state.stream?.getTracks() ?? []) track.stop();
  state.stream = null;
  warn("");
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ audio, video });
  } catch (error) {
    if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
      try {
        state.stream = await navigator.mediaDevices.getUserMedia({ audio });
        warn(S.cameraOnlyMissing);
      } catch (second) {
        warn(describeDeviceError(second));
      }
    } else {
      warn(describeDeviceError(error));
    }
  }
  state.micTrack = state.stream?.getAudioTracks()[0] ?? null;
  state.cameraTrack = state.stream?.getVideoTracks()[0] ?? null;
  // New devices keep what the buttons say.
  if (state.micTrack) state.micTrack.enabled = ui.muteButton.getAttribute("aria-pressed") !== "true";
  if (state.cameraTrack) {
    state.cameraTrack.enabled = ui.cameraButton.getAttribute("aria-pressed") !== "true";
  }
  ui.preview.srcObject = state.stream;
  ui.localVideo.srcObject = state.stream;
  await listDevices();
  watchLevel();
  if (state.inCall) {
    await state.audioSender?.replaceTrack(outgoingTrack("audio"));
    await state.videoSender?.replaceTrack(outgoingTrack("video"));
  }
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const fillSelect = (select, kind, current) => {
    const options = devices.filter((device) => device.kind === kind && device.deviceId);
    select.replaceChildren(
      ...options.map((device, index) => {
        const option = new Option(device.label || `${S.defaultDevice} ${index + 1}`, device.deviceId);
        option.selected = device.deviceId === current;
        return option;
      }),
    );
    select.disabled = options.length === 0;
  };
  fillSelect(ui.cameraSelect, "videoinput", state.cameraTrack?.getSettings().deviceId);
  fillSelect(ui.microphoneSelect, "audioinput", state.micTrack?.getSettings().deviceId);
}

let levelContext = null;
let levelSource = null;
function watchLevel() {
  if (!state.micTrack) {
    ui.micLevel.value = 0;
    return;
  }
  levelContext ??= new AudioContext();
  levelSource?.disconnect();
  const analyser = levelContext.createAnalyser();
  analyser.fftSize = 512;
  levelSource = levelContext.createMediaStreamSource(new MediaStream([state.micTrack]));
  levelSource.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const tick = () => {
    if (levelSource === null || state.inCall) return;
    analyser.getFloatTimeDomainData(samples);
    const rms = Math.sqrt(samples.reduce((sum, value) => sum + value * value, 0) / samples.length);
    ui.micLevel.value = Math.min(1, rms * 4);
    window.setTimeout(tick, 100);
  };
  tick();
}
// Browsers keep audio contexts asleep until the user does something on the page.
document.addEventListener("pointerdown", () => levelContext?.resume(), { once: true });
document.addEventListener("keydown", () => levelContext?.resume(), { once: true });

function outgoingTrack(kind) {
  if (kind === "audio") return state.micTrack ?? placeholderTrack("audio");
  return state.screenTrack ?? state.cameraTrack ?? placeholderTrack("video");
}

// --- call socket ----------------------------------------------------------------------------

function connectSocket() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}${config.socketPath}`);
  state.socket = socket;
  socket.addEventListener("open", () => {
    state.socketAttempt = 0;
    if (ui.status.textContent === S.socketLost) say("");
    state.heartbeat = window.setInterval(() => send({ type: "ping" }), 20000);
  });
  socket.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    enqueue(() => onServerEvent(event));
  });
  socket.addEventListener("close", (closed) => {
    window.clearInterval(state.heartbeat);
    if (state.stopped || state.socket !== socket) return;
    const final = { 4409: S.replaced, 4403: S.closedWindow, 4404: S.closedWindow, 4401: S.closedWindow };
    if (final[closed.code]) {
      stop(final[closed.code]);
      return;
    }
    say(S.socketLost);
    const pause = Math.min(15000, 500 * 2 ** state.socketAttempt);
    state.socketAttempt += 1;
    window.setTimeout(connectSocket, pause);
  });
}

function send(frame) {
  if (state.socket?.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
}

async function onServerEvent(event) {
  switch (event.type) {
    case "presence":
      showPresence(event);
      break;
    case "waiting":
      ui.startWaiting.textContent = S.waitingForPress;
      break;
    case "start":
      await enterCall(event);
      break;
    case "restart":
      if (state.inCall) await buildConnection();
      break;
    case "signal":
      await onSignal(event.frame);
      break;
    case "ended":
      endCall(event);
      break;
    case "error":
      console.warn("call socket error", event.code, event.detail ?? "");
      break;
    default:
      break;
  }
}

// --- presence and start (P-CALL-2, P-CALL-3) --------------------------------------------------

function showPresence(presence) {
  state.presence = presence;
  const mine = state.role === "member" ? "member" : "staff";
  const theirs = mine === "member" ? "staff" : "member";
  const otherHere = presence[`${theirs}_here`];
  const otherReady = presence[`${theirs}_ready`];
  const ownReady = presence[`${mine}_ready`];
  if (state.inCall) {
    say(otherHere ? "" : withName(S.otherLeft));
    return;
  }
  if (!otherHere) {
    if (ui.dialog.open) ui.dialog.close();
    ui.startAgain.hidden = true;
    state.pressed = false;
    say(withName(S.waitingForOther));
    return;
  }
  say(withName(S.otherHere));
  ui.startWaiting.textContent = ownReady ? S.waitingForPress : otherReady ? withName(S.otherReady) : "";
  ui.startButton.disabled = ownReady;
  if (state.dialogDismissed) {
    ui.startAgain.hidden = false;
  } else if (!ui.dialog.open) {
    ui.dialog.showModal();
    ui.startButton.focus();
  }
}

const wallClock = () => performance.timeOrigin + performance.now();

function pressStart() {
  state.pressed = true;
  state.pressedAt = wallClock();
  ui.startButton.disabled = true;
  ui.startWaiting.textContent = S.waitingForPress;
  levelContext?.resume();
  send({ type: "ready" });
}

ui.startButton.addEventListener("click", pressStart);
ui.startLater.addEventListener("click", () => {
  state.dialogDismissed = true;
  ui.dialog.close();
  ui.startAgain.hidden = false;
});
ui.startAgainButton.addEventListener("click", () => {
  state.dialogDismissed = false;
  ui.startAgain.hidden = true;
  ui.ended.hidden = true;
  ui.prejoin.hidden = false;
  if (state.presence) showPresence(state.presence);
  if (ui.dialog.open) pressStart();
});

// --- the call --------------------------------------------------------------------------------

const pressedKey = `treffpunkt-call-pressed:${config.socketPath}`;

function mayEnter(start) {
  // The server starts the call only after both presses (P-CALL-3); the page checks its own
  // press as well, so that nobody but this person can switch its camera into a call. After a
  // reload, the press this tab made for this very call counts.
  if (state.pressed) return true;
  return start.resume && sessionStorage.getItem(pressedKey) === String(start.session);
}

async function enterCall(start) {
  if (!mayEnter(start)) {
    if (start.resume) {
      // The call runs, but this tab never joined it (a new tab, say): ask first. The press
      // goes to the server, which then hands the call to this page.
      state.dialogDismissed = false;
      ui.startButton.disabled = false;
      ui.startWaiting.textContent = "";
      if (!ui.dialog.open) ui.dialog.showModal();
      ui.startButton.focus();
    }
    return;
  }
  sessionStorage.setItem(pressedKey, String(start.session));
  state.start = start;
  state.inCall = true;
  if (ui.dialog.open) ui.dialog.close();
  ui.prejoin.hidden = true;
  ui.startAgain.hidden = true;
  ui.ended.hidden = true;
  ui.inCall.hidden = false;
  ui.localVideo.srcObject = state.stream;
  say(S.connecting);
  ui.e2eeState.textContent = plain ? S.plainMedia : S.encrypted;
  showKeys();
  await buildConnection();
  window.clearInterval(state.statsTimer);
  state.statsTimer = window.setInterval(() => enqueue(readStats), 2000);
}

function worker() {
  if (state.worker === null) {
    state.worker = new Worker(config.workerUrl, { name: "treffpunkt-e2ee" });
    state.worker.addEventListener("message", (event) => {
      const waiting = state.workerCalls.get(event.data.id);
      if (waiting) {
        state.workerCalls.delete(event.data.id);
        waiting(event.data);
      }
    });
  }
  return state.worker;
}

function askWorker(message, transfer = []) {
  state.workerCallId += 1;
  const id = state.workerCallId;
  return new Promise((resolve) => {
    state.workerCalls.set(id, resolve);
    worker().postMessage({ ...message, id }, transfer);
  });
}

function attachCrypto(target, operation, kind) {
  const options = { operation, kind };
  if (useScriptTransform) {
    target.transform = new RTCRtpScriptTransform(worker(), options);
  } else {
    const { readable, writable } = target.createEncodedStreams();
    worker().postMessage({ op: "streams", readable, writable, options }, [readable, writable]);
  }
}

function closeConnection() {
  window.clearInterval(state.rotationTimer);
  window.clearTimeout(state.iceRestartTimer);
  state.rotationTimer = null;
  state.keyChannel?.close();
  state.pc?.close();
  state.pc = null;
  state.keyChannel = null;
  state.pendingCandidates = [];
  state.pendingKeys.clear();
  state.earlyKeyMessages = [];
  window.clearTimeout(state.keyResendTimer);
  state.sendGeneration = 0;
  state.peerGeneration = 0;
  state.ecdh = null;
  state.ownPublic = null;
  state.peerCommit = null;
  state.peerPublic = null;
  state.commitSent = false;
  state.publicSent = false;
  state.wrapKey = null;
  state.verificationCode = "";
  state.lastStats = null;
  ui.verification.textContent = "–";
}

async function buildConnection() {
  closeConnection();
  const start = state.start;
  const certificate = await RTCPeerConnection.generateCertificate({
    name: "ECDSA",
    namedCurve: "P-256",
  });
  const pcConfig = {
    iceServers: start.iceServers,
    iceTransportPolicy: start.iceTransportPolicy,
    certificates: [certificate],
  };
  if (useEncodedStreams && !plain) pcConfig.encodedInsertableStreams = true;
  const pc = new RTCPeerConnection(pcConfig);
  state.pc = pc;
  state.pcId = crypto.randomUUID();
  if (!plain) await askWorker({ op: "reset" });

  const stream = new MediaStream();
  state.audioSender = pc.addTrack(outgoingTrack("audio"), stream);
  state.videoSender = pc.addTrack(outgoingTrack("video"), stream);
  preferVp8(pc);
  if (!plain) {
    // Receivers get their transform now, before offer and answer: attached later (in
    // ontrack) they would see no frames in Chromium.
    attachCrypto(state.audioSender, "encrypt", "audio");
    attachCrypto(state.videoSender, "encrypt", "video");
    for (const receiver of pc.getReceivers()) attachCrypto(receiver, "decrypt", receiver.track.kind);
  }
  ui.remoteVideo.srcObject = new MediaStream(pc.getReceivers().map((receiver) => receiver.track));
  ui.remoteVideo.play().catch(() => {});
  if (config.testHooks) {
    state.firstRemoteFrameAt = null;
    ui.remoteVideo.requestVideoFrameCallback?.(() => {
      state.firstRemoteFrameAt = wallClock();
    });
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
  pc.addEventListener("iceconnectionstatechange", () => onIceState(pc));

  // Negotiated on both sides with the same id: no announcement through the server needed.
  const channel = pc.createDataChannel("keys", { negotiated: true, id: 0, ordered: true });
  state.keyChannel = channel;
  channel.addEventListener("open", () => enqueue(sendFirstKey));
  channel.addEventListener("message", (message) => enqueue(() => onKeyMessage(message.data)));

  if (!plain) {
    state.ownFingerprint = fingerprintText(certificate.getFingerprints());
    state.ecdh = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, [
      "deriveBits",
    ]);
    state.ownPublic = new Uint8Array(await crypto.subtle.exportKey("raw", state.ecdh.publicKey));
    const commitment = await crypto.subtle.digest(
      "SHA-256",
      utf8(`${toBase64(state.ownPublic)}|${state.ownFingerprint}`),
    );
    send({ type: "commit", hash: toBase64(commitment) });
    state.commitSent = true;
    revealPublicKey();
  }
  if (start.offerer) {
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "offer", sdp: pc.localDescription.sdp });
  }
}

function preferVp8(pc) {
  // The clear-header sizes of the frame format are VP8's; keep video on VP8.
  const capabilities = RTCRtpReceiver.getCapabilities?.("video");
  if (!capabilities) return;
  const vp8 = capabilities.codecs.filter((codec) => /video\/(vp8|rtx)/i.test(codec.mimeType));
  for (const transceiver of pc.getTransceivers()) {
    if (transceiver.receiver.track.kind === "video" && vp8.length) {
      transceiver.setCodecPreferences(vp8);
    }
  }
}

function fingerprintText(fingerprints) {
  const sha256 = fingerprints.find((item) => item.algorithm === "sha-256") ?? fingerprints[0];
  return `${sha256.algorithm} ${sha256.value.toUpperCase()}`;
}

function remoteFingerprint() {
  // Every fingerprint line of the remote SDP must name the same certificate: one the browser's
  // DTLS uses and another that matches the commitment would defeat the check. None or several
  // different ones give "", which never matches a commitment.
  const sdp = state.pc?.remoteDescription?.sdp ?? "";
  const found = new Set(
    [...sdp.matchAll(/^a=fingerprint:(\S+) (\S+)/gm)].map(
      (match) => `${match[1].toLowerCase()} ${match[2].toUpperCase()}`,
    ),
  );
  return found.size === 1 ? [...found][0] : "";
}

async function onSignal(frame) {
  const pc = state.pc;
  if (!state.inCall || pc === null) return;
  switch (frame.type) {
    case "offer":
      await pc.setRemoteDescription({ type: "offer", sdp: frame.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      send({ type: "answer", sdp: pc.localDescription.sdp });
      await addPendingCandidates(pc);
      await checkPeer();
      break;
    case "answer":
      if (pc.signalingState !== "have-local-offer") return;
      await pc.setRemoteDescription({ type: "answer", sdp: frame.sdp });
      await addPendingCandidates(pc);
      await checkPeer();
      break;
    case "ice": {
      const candidate = {
        candidate: frame.candidate,
        sdpMid: frame.sdpMid,
        sdpMLineIndex: frame.sdpMLineIndex,
      };
      if (pc.remoteDescription) await pc.addIceCandidate(candidate).catch(() => {});
      else state.pendingCandidates.push(candidate);
      break;
    }
    case "commit":
      // One commitment per connection. A second one could only come from someone trying
      // keys until the verification codes match: refuse it rather than take it.
      if (state.peerCommit !== null) {
        if (state.peerCommit !== frame.hash) failEncryption("a second, different commitment");
        return;
      }
      state.peerCommit = frame.hash;
      revealPublicKey();
      break;
    case "pubkey":
      if (state.peerCommit === null) return; // a key without its commitment is not accepted
      if (state.peerPublic !== null) {
        if (toBase64(state.peerPublic) !== frame.key) failEncryption("a second public key");
        return;
      }
      state.peerPublic = fromBase64(frame.key);
      await checkPeer();
      break;
    case "restart_ice":
      if (state.start.offerer) await restartIce();
      break;
    default:
      break;
  }
}

async function addPendingCandidates(pc) {
  const waiting = state.pendingCandidates;
  state.pendingCandidates = [];
  for (const candidate of waiting) await pc.addIceCandidate(candidate).catch(() => {});
}

function revealPublicKey() {
  // Only after the other side has committed to its key: neither can pick a key to fit ours.
  if (state.commitSent && state.peerCommit !== null && !state.publicSent && state.ownPublic) {
    state.publicSent = true;
    send({ type: "pubkey", key: toBase64(state.ownPublic) });
  }
}

async function checkPeer() {
  // Once the other side's key and its DTLS fingerprint are both known: check them against the
  // commitment, derive the wrapping key, show the verification code.
  if (plain || state.wrapKey || !state.peerPublic || !state.pc?.remoteDescription) return;
  const fingerprint = remoteFingerprint();
  const expected = toBase64(
    await crypto.subtle.digest("SHA-256", utf8(`${toBase64(state.peerPublic)}|${fingerprint}`)),
  );
  if (expected !== state.peerCommit) {
    failEncryption("the other side's key does not match its commitment");
    return;
  }
  const peerKey = await crypto.subtle.importKey(
    "raw",
    state.peerPublic,
    { name: "ECDH", namedCurve: "P-256" },
    false,
    [],
  );
  const secret = await crypto.subtle.deriveBits(
    { name: "ECDH", public: peerKey },
    state.ecdh.privateKey,
    256,
  );
  const hkdf = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  state.wrapKey = await crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: utf8(`treffpunkt call ${state.start.session}`),
      info: utf8("frame key wrapping v1"),
    },
    hkdf,
    { name: "AES-GCM", length: 256 },
    false,
    ["wrapKey", "unwrapKey"],
  );
  await showVerificationCode(fingerprint);
  // Keys travel peer to peer and may overtake the public key, which comes through the server.
  const early = state.earlyKeyMessages;
  state.earlyKeyMessages = [];
  for (const data of early) await onKeyMessage(data);
  await sendFirstKey();
}

async function showVerificationCode(peerFingerprint) {
  const mine = { key: toBase64(state.ownPublic), fingerprint: state.ownFingerprint };
  const theirs = { key: toBase64(state.peerPublic), fingerprint: peerFingerprint };
  const [staff, member] = state.role === "staff" ? [mine, theirs] : [theirs, mine];
  const digest = new Uint8Array(
    await crypto.subtle.digest(
      "SHA-256",
      utf8(["treffpunkt code v1", staff.key, member.key, staff.fingerprint, member.fingerprint].join("|")),
    ),
  );
  const number = new DataView(digest.buffer).getUint32(0) % 1000000;
  const digits = String(number).padStart(6, "0");
  const code = `${digits.slice(0, 3)} ${digits.slice(3)}`;
  if (state.shownCode && state.shownCode !== code) {
    // A rebuilt connection has new keys: a code compared before says nothing about them.
    say(S.newCode);
  }
  state.shownCode = code;
  state.verificationCode = code;
  ui.verification.textContent = code;
}

function failEncryption(reason) {
  console.error("encryption failed:", reason);
  warn(S.encryptionFailed);
  send({ type: "hangup" });
  closeConnection();
}

// --- frame keys (P-CALL-5) --------------------------------------------------------------------

async function sendFirstKey() {
  if (plain || state.sendGeneration > 0 || state.pendingKeys.size > 0) return;
  if (state.keyChannel?.readyState !== "open" || state.wrapKey === null) return;
  await offerNewKey();
  window.clearInterval(state.rotationTimer);
  state.rotationTimer = window.setInterval(
    () => enqueue(offerNewKey),
    state.start.rotationSeconds * 1000,
  );
}

async function offerNewKey() {
  if (state.keyChannel?.readyState !== "open" || state.wrapKey === null) return;
  if (state.pendingKeys.size > 0) return; // the last one is not acknowledged yet
  const generation = state.sendGeneration + 1;
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, true, [
    "encrypt",
    "decrypt",
  ]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.wrapKey("raw", key, state.wrapKey, {
    name: "AES-GCM",
    iv,
    additionalData: utf8(state.role),
  });
  state.pendingKeys.set(generation, key);
  if (config.testHooks) {
    state.keysForTests.push(toBase64(await crypto.subtle.exportKey("raw", key)));
  }
  const message = JSON.stringify({ t: "key", generation, iv: toBase64(iv), key: toBase64(wrapped) });
  state.keyChannel.send(message);
  resendUntilAcknowledged(generation, message);
}

function resendUntilAcknowledged(generation, message) {
  // The data channel is reliable, but the other side may have been rebuilding its connection;
  // without an acknowledgement the rotation would stop. Installing a key twice is harmless.
  window.clearTimeout(state.keyResendTimer);
  state.keyResendTimer = window.setTimeout(() => {
    if (state.pendingKeys.has(generation) && state.keyChannel?.readyState === "open") {
      state.keyChannel.send(message);
      resendUntilAcknowledged(generation, message);
    }
  }, 2000);
}

async function onKeyMessage(data) {
  let message;
  try {
    message = JSON.parse(data);
  } catch {
    return;
  }
  if (!Number.isInteger(message?.generation) || message.generation < 1) return;
  if (message.t === "key" && state.wrapKey === null) {
    if (state.earlyKeyMessages.length < 8) state.earlyKeyMessages.push(data);
    return;
  }
  if (message.t === "key") {
    const peerRole = state.role === "staff" ? "member" : "staff";
    let key;
    try {
      key = await crypto.subtle.unwrapKey(
        "raw",
        fromBase64(message.key),
        state.wrapKey,
        { name: "AES-GCM", iv: fromBase64(message.iv), additionalData: utf8(peerRole) },
        { name: "AES-GCM" },
        false,
        ["decrypt"],
      );
    } catch {
      failEncryption("a frame key could not be unwrapped");
      return;
    }
    await askWorker({
      op: "addReceiveKey",
      index: message.generation % 256,
      generation: message.generation,
      key,
    });
    state.peerGeneration = message.generation;
    state.keyChannel?.send(JSON.stringify({ t: "ack", generation: message.generation }));
    showKeys();
  } else if (message.t === "ack") {
    const key = state.pendingKeys.get(message.generation);
    if (!key) return;
    state.pendingKeys.clear();
    window.clearTimeout(state.keyResendTimer);
    // The other side holds the key now; from this frame on we use it.
    await askWorker({
      op: "setSendKey",
      index: message.generation % 256,
      generation: message.generation,
      key,
    });
    state.sendGeneration = message.generation;
    showKeys();
  }
}

function showKeys() {
  if (plain) {
    ui.keyGeneration.textContent = "";
    return;
  }
  ui.keyGeneration.textContent =
    state.sendGeneration > 0 && state.peerGeneration > 0
      ? fill(S.keyGeneration, { own: state.sendGeneration, other: state.peerGeneration })
      : S.keyPending;
}

// --- connection quality and recovery (P-CALL-6) -----------------------------------------------

function onIceState(pc) {
  if (pc !== state.pc) return;
  const ice = pc.iceConnectionState;
  if (ice === "connected" || ice === "completed") {
    window.clearTimeout(state.iceRestartTimer);
    say(state.presence && !otherIsHere() ? withName(S.otherLeft) : S.connected);
  } else if (ice === "disconnected") {
    say(S.reconnecting);
    window.clearTimeout(state.iceRestartTimer);
    state.iceRestartTimer = window.setTimeout(() => enqueue(restartIceIfStillDown), 3000);
  } else if (ice === "failed") {
    say(S.reconnecting);
    enqueue(restartIce);
  }
}

function otherIsHere() {
  const theirs = state.role === "member" ? "staff" : "member";
  return state.presence[`${theirs}_here`];
}

async function restartIceIfStillDown() {
  if (state.pc && ["disconnected", "failed"].includes(state.pc.iceConnectionState)) {
    await restartIce();
  }
}

async function restartIce() {
  const pc = state.pc;
  if (!pc || !state.inCall) return;
  if (!state.start.offerer) {
    send({ type: "restart_ice" });
    return;
  }
  pc.restartIce();
  await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
  send({ type: "offer", sdp: pc.localDescription.sdp });
}

async function readStats() {
  const pc = state.pc;
  if (!pc) return;
  const report = await pc.getStats();
  let transport = null;
  const inbound = [];
  let video = null;
  report.forEach((entry) => {
    if (entry.type === "transport") transport = entry;
    if (entry.type === "inbound-rtp") {
      inbound.push(entry);
      if (entry.kind === "video") video = entry;
    }
  });
  const pair = transport?.selectedCandidatePairId ? report.get(transport.selectedCandidatePairId) : null;
  const local = pair ? report.get(pair.localCandidateId) : null;
  const remote = pair ? report.get(pair.remoteCandidateId) : null;
  const relayed = local?.candidateType === "relay" || remote?.candidateType === "relay";
  const now = performance.now();
  const totals = {
    lost: inbound.reduce((sum, entry) => sum + (entry.packetsLost ?? 0), 0),
    received: inbound.reduce((sum, entry) => sum + (entry.packetsReceived ?? 0), 0),
    bytes: transport?.bytesReceived ?? 0,
  };
  const before = state.lastStats;
  state.lastStats = { ...totals, at: now };
  ui.quality.dataset.path = pair ? (relayed ? "relay" : "direct") : "";
  ui.quality.dataset.framesDecoded = String(video?.framesDecoded ?? 0);
  if (!before || !pair) return;
  const lost = totals.lost - before.lost;
  const packets = lost + totals.received - before.received;
  const loss = packets > 0 ? (100 * lost) / packets : 0;
  const kbps = ((totals.bytes - before.bytes) * 8) / (now - before.at);
  const rtt = (pair.currentRoundTripTime ?? 0) * 1000;
  const quality =
    rtt < 150 && loss < 2 ? S.qualityGood : rtt < 400 && loss < 8 ? S.qualityFair : S.qualityPoor;
  ui.quality.textContent = fill(S.qualityDetail, {
    quality,
    rtt: Math.round(rtt),
    loss: loss.toFixed(1),
    kbps: Math.round(kbps),
    path: relayed ? S.pathRelay : S.pathDirect,
  });
  if (now - state.lastReport > 10000 && transport) {
    // Traffic data for the call record (P-CALL-7): byte counts, nothing else.
    state.lastReport = now;
    send({
      type: "stats",
      pc: state.pcId,
      bytes_sent: transport.bytesSent ?? 0,
      bytes_received: transport.bytesReceived ?? 0,
    });
  }
}

// --- controls ----------------------------------------------------------------------------------

function toggle(button, pressed, onText, offText) {
  button.setAttribute("aria-pressed", String(pressed));
  button.textContent = pressed ? onText : offText;
}

ui.muteButton.addEventListener("click", () => {
  const muted = ui.muteButton.getAttribute("aria-pressed") !== "true";
  if (state.micTrack) state.micTrack.enabled = !muted;
  toggle(ui.muteButton, muted, S.unmuted, S.muted);
});

ui.cameraButton.addEventListener("click", () => {
  const off = ui.cameraButton.getAttribute("aria-pressed") !== "true";
  if (state.cameraTrack) state.cameraTrack.enabled = !off;
  toggle(ui.cameraButton, off, S.cameraOn, S.cameraOff);
});

ui.shareButton.addEventListener("click", () => enqueue(toggleScreenShare));

async function toggleScreenShare() {
  if (state.screenTrack) {
    await stopScreenShare();
    return;
  }
  try {
    const screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    state.screenTrack = screen.getVideoTracks()[0];
  } catch {
    warn(S.shareFailed);
    return;
  }
  // The browser's own "stop sharing" bar ends the track.
  state.screenTrack.addEventListener("ended", () => enqueue(stopScreenShare));
  // The same sender, so the same encryption transform: the screen is encrypted like the camera.
  await state.videoSender?.replaceTrack(state.screenTrack);
  ui.localVideo.srcObject = new MediaStream([state.screenTrack]);
  toggle(ui.shareButton, true, S.shareStop, S.shareStart);
}

async function stopScreenShare() {
  state.screenTrack?.stop();
  state.screenTrack = null;
  await state.videoSender?.replaceTrack(outgoingTrack("video"));
  ui.localVideo.srcObject = state.stream;
  toggle(ui.shareButton, false, S.shareStop, S.shareStart);
}

ui.hangupButton.addEventListener("click", () => {
  send({ type: "hangup" });
  enqueue(() => endCall({ reason: "hung_up", by: state.role }));
});

function endCall(event) {
  if (!state.inCall) return;
  state.inCall = false;
  window.clearInterval(state.statsTimer);
  if (state.screenTrack) stopScreenShare().catch(() => {}); // the connection closes anyway
  closeConnection();
  ui.inCall.hidden = true;
  ui.ended.hidden = false;
  ui.prejoin.hidden = false;
  const byOther = event.by && event.by !== state.role;
  ui.endedText.textContent =
    event.reason === "window_closed" ? S.endedWindow : byOther ? withName(S.endedByOther) : S.ended;
  say("");
  state.pressed = false;
  state.shownCode = "";
  sessionStorage.removeItem(pressedKey);
  if (state.presence) {
    // Hanging up cleared both presses on the server.
    state.presence = { ...state.presence, member_ready: false, staff_ready: false };
    ui.startButton.disabled = false;
    ui.startWaiting.textContent = "";
  }
  state.dialogDismissed = true;
  ui.startAgain.hidden = event.reason === "window_closed";
  watchLevel();
  ui.hangupButton.blur();
  ui.endedText.focus?.();
}

function stop(message) {
  state.stopped = true;
  endCall({ reason: "window_closed" });
  if (ui.dialog.open) ui.dialog.close();
  ui.startAgain.hidden = true;
  say(message);
}

// --- start ---------------------------------------------------------------------------------------

if (config.testHooks) {
  window.treffpunktCall = {
    counters: async () => (await askWorker({ op: "counters" })).counters,
    frameKeys: () => [...state.keysForTests],
    verificationCode: () => state.verificationCode,
    inCall: () => state.inCall,
    // Wall-clock milliseconds, comparable between two pages of one machine (benchmarks).
    pressedAt: () => state.pressedAt,
    firstRemoteFrameAt: () => state.firstRemoteFrameAt,
    restartIce: () => enqueue(restartIce),
    iceUfrag: () => state.pc?.localDescription?.sdp.match(/^a=ice-ufrag:(\S+)/m)?.[1] ?? "",
    sentVideoLabel: () => state.videoSender?.track?.label ?? "",
    plantWrongKey: async () => {
      const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, [
        "decrypt",
      ]);
      await askWorker({ op: "useWrongKeys", key });
    },
  };
}

async function main() {
  if (!plain && !canEncrypt) {
    // Never an unencrypted call (P-CALL-5): without frame encryption there is no call at all.
    ui.unsupported.hidden = false;
    ui.prejoin.hidden = true;
    return;
  }
  ui.cameraSelect.addEventListener("change", () => enqueue(openDevices));
  ui.microphoneSelect.addEventListener("change", () => enqueue(openDevices));
  window.addEventListener("pagehide", () => {
    state.stopped = true;
    state.socket?.close();
  });
  await openDevices();
  connectSocket();
}

main();

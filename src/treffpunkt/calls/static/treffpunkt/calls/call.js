// @ts-check
// The video call page (P-CALL-1 … P-CALL-6): the page's entry module, which ties the others
// together.
//
// 1. Before the call: camera preview, microphone level, device choice (devices.js); the page
//    joins the call socket, which tells who is here. When both are, the start window opens on
//    both screens (start-window.js).
// 2. "Gespräch starten": the server starts the call only when both have pressed.
// 3. The call: one RTCPeerConnection, media directly between the browsers (peer-connection.js).
//    The staff side makes the offer. Every audio and video frame passes the encryption worker
//    (worker-bridge.js, e2ee-worker.js, frame-crypto.js).
// 4. Keys: each side makes an ECDH key pair and sends first a hash of its public key and DTLS
//    fingerprint, then the key itself, through the server (key-agreement.js); both show the
//    same verification code (verification.js). Frame keys are random, wrapped under the
//    ECDH-derived key and sent over the peer-to-peer data channel, never through the server.
//    Each side makes a new frame key every `rotationSeconds`; the receiver installs it and
//    acknowledges before the sender switches to it (key-rotation.js).
// 5. Quality and recovery: statistics every 2 s (stats.js), ICE restarts, a rebuilt connection
//    when the other side comes back.
// 6. The end: hanging up, the window closing, or the appointment cancelled or moved.
import { ReconnectingSocket, socketUrl } from "../socket.js";
import { CallControls } from "./controls.js";
import { Devices } from "./devices.js";
import { toBase64 } from "./encoding.js";
import { S, config, fill, say, ui, wallClock, warn, withName } from "./page.js";
import { CallConnection } from "./peer-connection.js";
import { StartWindow } from "./start-window.js";
import { summarizeStats } from "./stats.js";
import { WorkerBridge, frameAccess } from "./worker-bridge.js";

/** @typedef {import("./peer-connection.js").CallStart} CallStart */
/** @typedef {import("./peer-connection.js").SignalFrame} SignalFrame */
/** @typedef {import("./start-window.js").Presence} Presence */

/**
 * Why and by whom the call ended. "cancelled" and "moved": the appointment changed.
 * @typedef {{reason: string, by?: string}} CallEnd
 */

/**
 * What the call socket sends.
 * @typedef {{type: "presence"} & Presence
 *   | {type: "waiting"}
 *   | {type: "start"} & CallStart
 *   | {type: "restart"}
 *   | {type: "signal", frame: SignalFrame}
 *   | {type: "ended"} & CallEnd
 *   | {type: "error", code: string, detail?: string}
 *   | {type: "hello" | "pong"}} ServerEvent
 */

const plain = config.plainMedia === true;
const access = frameAccess();
const canEncrypt = access !== null && Boolean(window.crypto?.subtle);
// Started on first use; in the measuring mode without encryption only the test hooks ask it.
const worker = access === null ? null : new WorkerBridge(config.workerUrl, access);
/** Why a call ended that cannot simply be started again. */
const FINAL_REASONS = new Set(["window_closed", "cancelled", "moved"]);
/** The appointment was cancelled or moved: the page has nothing left to do. */
const APPOINTMENT_CHANGED = new Set(["cancelled", "moved"]);

const state = {
  inCall: false,
  stopped: false,
  /** @type {CallStart | null} */
  start: null,
  /** @type {CallConnection | null} */
  connection: null,
  /** @type {number | undefined} */
  statsTimer: undefined,
  /** @type {number | undefined} */
  iceRestartTimer: undefined,
  lastReport: 0,
  shownCode: "",
  /** @type {string[]} */
  keysForTests: [],
  /** @type {number | null} */
  firstRemoteFrameAt: null,
  queue: Promise.resolve(),
};

/**
 * Everything that changes the call runs one step after the other, in arrival order.
 * @param {() => unknown} step
 */
function enqueue(step) {
  state.queue = state.queue
    .then(step)
    .then(() => {})
    .catch((error) => console.error("call step failed", error));
  return state.queue;
}

const devices = new Devices(ui, /** @type {any} */ (S), warn);
devices.levelPaused = () => state.inCall;
// Browsers keep audio contexts asleep until the user does something on the page.
document.addEventListener("pointerdown", () => devices.wakeLevel(), { once: true });
document.addEventListener("keydown", () => devices.wakeLevel(), { once: true });

const socket = new ReconnectingSocket({
  url: socketUrl(config.socketPath),
  // Replaced by another window; the call is not possible (any more); not one of the two.
  finalCodes: [4409, 4403, 4404, 4401],
  pingMs: 20_000,
  firstPauseMs: 500,
  maxPauseMs: 15_000,
  onOpen: () => {
    if (ui.status.textContent === S.socketLost) say("");
  },
  onClose: (code, { final }) => {
    if (final) stop(code === 4409 ? S.replaced : S.closedWindow);
    else say(S.socketLost);
  },
  onEvent: (/** @type {ServerEvent} */ event) => enqueue(() => onServerEvent(event)),
});

/** @param {object} frame */
function send(frame) {
  socket.send(frame);
}

const startWindow = new StartWindow({
  role: config.role,
  send,
  inCall: () => state.inCall,
  stopped: () => state.stopped,
  onPress: () => devices.wakeLevel(),
});

const controls = new CallControls({
  devices,
  videoSender: () => state.connection?.videoSender,
  enqueue,
});

/** @param {ServerEvent} event */
async function onServerEvent(event) {
  switch (event.type) {
    case "presence":
      startWindow.show(event);
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
      if (state.inCall) await state.connection?.onSignal(event.frame);
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

// --- the call --------------------------------------------------------------------------------

/** @param {CallStart} start */
async function enterCall(start) {
  if (state.stopped) return;
  if (!startWindow.mayEnter(start)) {
    if (start.resume) startWindow.askToJoin();
    return;
  }
  startWindow.entered(start);
  state.start = start;
  state.inCall = true;
  ui.prejoin.hidden = true;
  ui.ended.hidden = true;
  ui.inCall.hidden = false;
  ui.localVideo.srcObject = devices.stream;
  say(S.connecting);
  ui.e2eeState.textContent = plain ? S.plainMedia : S.encrypted;
  showKeys();
  await buildConnection();
  window.clearInterval(state.statsTimer);
  state.statsTimer = window.setInterval(() => enqueue(readStats), 2000);
}

/** A new peer connection in place of the old one (if any). */
async function buildConnection() {
  closeConnection();
  if (state.start === null) return;
  const connection = new CallConnection({
    start: state.start,
    role: config.role,
    bridge: plain ? null : worker,
    send,
    enqueue,
    outgoingTrack: (kind) => devices.outgoingTrack(kind),
    onIceState,
    onKeysChanged: showKeys,
    onVerified: showVerificationCode,
    onFailure: failEncryption,
    onNewKey: config.testHooks
      ? async (key) => {
          state.keysForTests.push(toBase64(await crypto.subtle.exportKey("raw", key)));
        }
      : undefined,
  });
  state.connection = connection;
  await connection.build();
  if (state.connection !== connection) return; // closed meanwhile
  ui.remoteVideo.srcObject = connection.remoteStream();
  ui.remoteVideo.play().catch(() => {});
  if (config.testHooks) {
    state.firstRemoteFrameAt = null;
    ui.remoteVideo.requestVideoFrameCallback?.(() => {
      state.firstRemoteFrameAt = wallClock();
    });
  }
}

function closeConnection() {
  window.clearTimeout(state.iceRestartTimer);
  state.connection?.close();
  state.connection = null;
  ui.verification.textContent = "–";
}

/** @param {string} code */
function showVerificationCode(code) {
  if (state.shownCode && state.shownCode !== code) {
    // A rebuilt connection has new keys: a code compared before says nothing about them.
    say(S.newCode);
  }
  state.shownCode = code;
  ui.verification.textContent = code;
}

/** @param {string} reason */
function failEncryption(reason) {
  console.error("encryption failed:", reason);
  warn(S.encryptionFailed);
  send({ type: "hangup" });
  closeConnection();
}

function showKeys() {
  if (plain) {
    ui.keyGeneration.textContent = "";
    return;
  }
  const own = state.connection?.rotation?.sendGeneration ?? 0;
  const other = state.connection?.rotation?.peerGeneration ?? 0;
  ui.keyGeneration.textContent =
    own > 0 && other > 0 ? fill(S.keyGeneration, { own, other }) : S.keyPending;
}

// --- connection quality and recovery (P-CALL-6) -----------------------------------------------

/** @param {CallConnection} connection */
function onIceState(connection) {
  if (connection !== state.connection) return;
  const ice = connection.iceState;
  if (ice === "connected" || ice === "completed") {
    window.clearTimeout(state.iceRestartTimer);
    say(startWindow.presence && !startWindow.otherIsHere() ? withName(S.otherLeft) : S.connected);
  } else if (ice === "disconnected") {
    say(S.reconnecting);
    window.clearTimeout(state.iceRestartTimer);
    state.iceRestartTimer = window.setTimeout(() => enqueue(restartIceIfStillDown), 3000);
  } else if (ice === "failed") {
    say(S.reconnecting);
    enqueue(restartIce);
  }
}

async function restartIceIfStillDown() {
  const ice = state.connection?.iceState;
  if (ice === "disconnected" || ice === "failed") await restartIce();
}

async function restartIce() {
  if (state.inCall) await state.connection?.restartIce();
}

async function readStats() {
  const connection = state.connection;
  if (!connection?.pc) return;
  const report = await connection.pc.getStats();
  const now = performance.now();
  const summary = summarizeStats(report, connection.lastStats, now);
  connection.lastStats = summary.totals;
  ui.quality.dataset.path = summary.path;
  ui.quality.dataset.framesDecoded = String(summary.framesDecoded);
  const figures = summary.figures;
  if (!figures) return;
  const words = { good: S.qualityGood, fair: S.qualityFair, poor: S.qualityPoor };
  ui.quality.textContent = fill(S.qualityDetail, {
    quality: words[figures.quality],
    rtt: Math.round(figures.rtt),
    loss: figures.loss.toFixed(1),
    kbps: Math.round(figures.kbps),
    path: summary.path === "relay" ? S.pathRelay : S.pathDirect,
  });
  if (now - state.lastReport > 10000 && summary.traffic) {
    // Traffic data for the call record (P-CALL-7): byte counts, nothing else.
    state.lastReport = now;
    send({
      type: "stats",
      pc: connection.id,
      bytes_sent: summary.traffic.bytesSent,
      bytes_received: summary.traffic.bytesReceived,
    });
  }
}

// --- the end ---------------------------------------------------------------------------------

ui.hangupButton.addEventListener("click", () => {
  send({ type: "hangup" });
  enqueue(() => endCall({ reason: "hung_up", by: config.role }));
});

/** @param {CallEnd} event */
function endedText(event) {
  if (event.reason === "cancelled") return S.endedCancelled || S.ended;
  if (event.reason === "moved") return S.endedMoved || S.ended;
  if (event.reason === "window_closed") return S.endedWindow;
  const byOther = event.by && event.by !== config.role;
  return byOther ? withName(S.endedByOther) : S.ended;
}

/** @param {CallEnd} event */
function endCall(event) {
  const appointmentChanged = APPOINTMENT_CHANGED.has(event.reason);
  // A cancelled or moved appointment ends the page's part even before a call.
  if (!state.inCall && !appointmentChanged) return;
  state.inCall = false;
  window.clearInterval(state.statsTimer);
  if (devices.screenTrack) controls.stopScreenShare().catch(() => {}); // closes anyway
  closeConnection();
  ui.inCall.hidden = true;
  ui.ended.hidden = false;
  ui.prejoin.hidden = appointmentChanged;
  ui.endedText.textContent = endedText(event);
  say(appointmentChanged ? ui.endedText.textContent : "");
  state.shownCode = "";
  startWindow.ended({ final: FINAL_REASONS.has(event.reason) });
  if (appointmentChanged) {
    // Nothing more to start here: no start window, no socket, camera and microphone off.
    state.stopped = true;
    startWindow.close();
    socket.stop();
    devices.close();
  } else {
    devices.watchLevel();
  }
  ui.hangupButton.blur();
  ui.endedText.focus?.();
}

/** @param {string} message */
function stop(message) {
  state.stopped = true;
  endCall({ reason: "window_closed" });
  startWindow.close();
  say(message);
}

// --- start ---------------------------------------------------------------------------------------

if (config.testHooks) {
  Object.assign(window, {
    treffpunktCall: {
      counters: async () => (worker ? await worker.counters() : {}),
      frameKeys: () => [...state.keysForTests],
      verificationCode: () => state.connection?.verificationCode ?? "",
      inCall: () => state.inCall,
      // Wall-clock milliseconds, comparable between two pages of one machine (benchmarks).
      pressedAt: () => startWindow.pressedAt,
      firstRemoteFrameAt: () => state.firstRemoteFrameAt,
      restartIce: () => enqueue(restartIce),
      iceUfrag: () =>
        state.connection?.pc?.localDescription?.sdp.match(/^a=ice-ufrag:(\S+)/m)?.[1] ?? "",
      sentVideoLabel: () => state.connection?.videoSender?.track?.label ?? "",
      plantWrongKey: async () => {
        const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 128 }, false, [
          "decrypt",
        ]);
        await worker?.ask({ op: "useWrongKeys", key });
      },
    },
  });
}

/** Another camera or microphone chosen: the call goes on with it. */
async function changeDevices() {
  await devices.open();
  if (state.inCall) {
    await state.connection?.audioSender?.replaceTrack(devices.outgoingTrack("audio"));
    await state.connection?.videoSender?.replaceTrack(devices.outgoingTrack("video"));
  }
}

async function main() {
  if (!plain && !canEncrypt) {
    // Never an unencrypted call (P-CALL-5): without frame encryption there is no call at all.
    ui.unsupported.hidden = false;
    ui.prejoin.hidden = true;
    return;
  }
  ui.cameraSelect.addEventListener("change", () => enqueue(changeDevices));
  ui.microphoneSelect.addEventListener("change", () => enqueue(changeDevices));
  window.addEventListener("pagehide", () => {
    state.stopped = true;
    socket.stop();
  });
  await devices.open();
  socket.start();
}

main();

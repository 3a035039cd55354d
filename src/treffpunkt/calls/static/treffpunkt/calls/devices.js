// @ts-check
// Camera, microphone and screen of the call page (P-CALL-1): opening the chosen devices, the
// lists to choose from, the microphone level before the call, silent or black stand-ins where a
// device is missing, and what each sender sends.

/**
 * The page's elements this module works with.
 * @typedef {object} DeviceUi
 * @property {HTMLSelectElement} cameraSelect
 * @property {HTMLSelectElement} microphoneSelect
 * @property {HTMLMeterElement} micLevel
 * @property {HTMLVideoElement} preview
 * @property {HTMLVideoElement} localVideo
 * @property {HTMLButtonElement} muteButton
 * @property {HTMLButtonElement} cameraButton
 */

/**
 * @typedef {object} DeviceStrings
 * @property {string} deviceBlocked
 * @property {string} deviceBusy
 * @property {string} deviceMissing
 * @property {string} cameraOnlyMissing
 * @property {string} defaultDevice
 */

/**
 * What to tell a person whose device could not be opened.
 * @param {unknown} error
 * @param {DeviceStrings} strings
 */
export function describeDeviceError(error, strings) {
  const name = error instanceof Error ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") return strings.deviceBlocked;
  if (name === "NotReadableError" || name === "AbortError") return strings.deviceBusy;
  return strings.deviceMissing;
}

export class Devices {
  /**
   * @param {DeviceUi} ui
   * @param {DeviceStrings} strings
   * @param {(text: string) => void} warn shows (or, with "", hides) the page's alert
   */
  constructor(ui, strings, warn) {
    this.ui = ui;
    this.strings = strings;
    this.warn = warn;
    /** @type {MediaStream | null} */
    this.stream = null;
    /** @type {MediaStreamTrack | null} */
    this.micTrack = null;
    /** @type {MediaStreamTrack | null} */
    this.cameraTrack = null;
    /** @type {MediaStreamTrack | null} */
    this.screenTrack = null;
    /** @type {Partial<Record<"audio" | "video", MediaStreamTrack>>} */
    this.placeholders = {};
    /** @type {AudioContext | null} */
    this.levelContext = null;
    /** @type {MediaStreamAudioSourceNode | null} */
    this.levelSource = null;
    /** Whether the level meter is to stop (the call runs). */
    this.levelPaused = () => false;
  }

  /** Opens the chosen camera and microphone (or what there is). */
  async open() {
    const { ui, strings, warn } = this;
    const camera = ui.cameraSelect.value;
    const microphone = ui.microphoneSelect.value;
    /** @type {MediaTrackConstraints} */
    const video = { width: { ideal: 640 }, height: { ideal: 480 } };
    if (camera) video.deviceId = { exact: camera };
    const audio = microphone ? { deviceId: { exact: microphone } } : true;
    this.stopTracks();
    warn("");
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio, video });
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "NotFoundError" || name === "OverconstrainedError") {
        try {
          this.stream = await navigator.mediaDevices.getUserMedia({ audio });
          warn(strings.cameraOnlyMissing);
        } catch (second) {
          warn(describeDeviceError(second, strings));
        }
      } else {
        warn(describeDeviceError(error, strings));
      }
    }
    this.micTrack = this.stream?.getAudioTracks()[0] ?? null;
    this.cameraTrack = this.stream?.getVideoTracks()[0] ?? null;
    // New devices keep what the buttons say.
    if (this.micTrack) this.micTrack.enabled = ui.muteButton.getAttribute("aria-pressed") !== "true";
    if (this.cameraTrack) {
      this.cameraTrack.enabled = ui.cameraButton.getAttribute("aria-pressed") !== "true";
    }
    ui.preview.srcObject = this.stream;
    ui.localVideo.srcObject = this.stream;
    await this.list();
    this.watchLevel();
  }

  /** @private */
  stopTracks() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }

  /** Camera, microphone, screen and level meter off: nothing more to do on this page. */
  close() {
    this.stopTracks();
    this.stopScreen();
    this.micTrack = null;
    this.cameraTrack = null;
    this.levelSource?.disconnect();
    this.levelSource = null;
    this.ui.micLevel.value = 0;
    this.ui.preview.srcObject = null;
    this.ui.localVideo.srcObject = null;
  }

  /** Fills the two device lists. */
  async list() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    /**
     * @param {HTMLSelectElement} select
     * @param {MediaDeviceKind} kind
     * @param {string | undefined} current
     */
    const fillSelect = (select, kind, current) => {
      const options = devices.filter((device) => device.kind === kind && device.deviceId);
      select.replaceChildren(
        ...options.map((device, index) => {
          const label = device.label || `${this.strings.defaultDevice} ${index + 1}`;
          const option = new Option(label, device.deviceId);
          option.selected = device.deviceId === current;
          return option;
        }),
      );
      select.disabled = options.length === 0;
    };
    fillSelect(this.ui.cameraSelect, "videoinput", this.cameraTrack?.getSettings().deviceId);
    fillSelect(this.ui.microphoneSelect, "audioinput", this.micTrack?.getSettings().deviceId);
  }

  /** The microphone level meter, until the call starts. */
  watchLevel() {
    const meter = this.ui.micLevel;
    if (!this.micTrack) {
      meter.value = 0;
      return;
    }
    this.levelContext ??= new AudioContext();
    this.levelSource?.disconnect();
    const analyser = this.levelContext.createAnalyser();
    analyser.fftSize = 512;
    const source = this.levelContext.createMediaStreamSource(new MediaStream([this.micTrack]));
    this.levelSource = source;
    source.connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const tick = () => {
      if (this.levelSource !== source || this.levelPaused()) return;
      analyser.getFloatTimeDomainData(samples);
      const rms = Math.sqrt(samples.reduce((sum, value) => sum + value * value, 0) / samples.length);
      meter.value = Math.min(1, rms * 4);
      window.setTimeout(tick, 100);
    };
    tick();
  }

  /** Browsers keep audio contexts asleep until the person does something on the page. */
  wakeLevel() {
    this.levelContext?.resume().catch(() => {});
  }

  /**
   * What a sender of this kind sends now: the microphone; the shared screen, else the camera;
   * a stand-in where there is none.
   * @param {"audio" | "video"} kind
   */
  outgoingTrack(kind) {
    if (kind === "audio") return this.micTrack ?? this.placeholderTrack("audio");
    return this.screenTrack ?? this.cameraTrack ?? this.placeholderTrack("video");
  }

  /**
   * A silent or black track where a device is missing, so the connection has the same shape
   * (and the same encryption) either way.
   * @param {"audio" | "video"} kind
   */
  placeholderTrack(kind) {
    const kept = this.placeholders[kind];
    if (kept) return kept;
    let track;
    if (kind === "audio") {
      const context = new AudioContext();
      track = context.createMediaStreamDestination().stream.getAudioTracks()[0];
    } else {
      const canvas = Object.assign(document.createElement("canvas"), { width: 320, height: 240 });
      const paint = canvas.getContext("2d");
      if (paint) {
        paint.fillStyle = "#111";
        paint.fillRect(0, 0, canvas.width, canvas.height);
      }
      track = canvas.captureStream(1).getVideoTracks()[0];
    }
    this.placeholders[kind] = track;
    return track;
  }

  /**
   * Shares a screen (the browser asks which).
   * @returns {Promise<MediaStreamTrack | null>} null when nothing was chosen or allowed
   */
  async shareScreen() {
    try {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      this.screenTrack = screen.getVideoTracks()[0] ?? null;
    } catch {
      this.screenTrack = null;
    }
    return this.screenTrack;
  }

  stopScreen() {
    this.screenTrack?.stop();
    this.screenTrack = null;
  }
}

// @ts-check
// The buttons of a running call: microphone, camera, screen sharing. The shared screen goes
// through the same video sender as the camera, so through the same encryption.
import { S, ui, warn } from "./page.js";

/** @typedef {import("./devices.js").Devices} Devices */

/**
 * @param {HTMLButtonElement} button
 * @param {boolean} pressed
 * @param {string} onText
 * @param {string} offText
 */
function toggle(button, pressed, onText, offText) {
  button.setAttribute("aria-pressed", String(pressed));
  button.textContent = pressed ? onText : offText;
}

export class CallControls {
  /**
   * @param {object} options
   * @param {Devices} options.devices
   * @param {() => RTCRtpSender | null | undefined} options.videoSender the connection's, now
   * @param {(step: () => Promise<void>) => void} options.enqueue
   */
  constructor({ devices, videoSender, enqueue }) {
    this.devices = devices;
    this.videoSender = videoSender;
    this.enqueue = enqueue;
    ui.muteButton.addEventListener("click", () => {
      const muted = ui.muteButton.getAttribute("aria-pressed") !== "true";
      if (devices.micTrack) devices.micTrack.enabled = !muted;
      toggle(ui.muteButton, muted, S.unmuted, S.muted);
    });
    ui.cameraButton.addEventListener("click", () => {
      const off = ui.cameraButton.getAttribute("aria-pressed") !== "true";
      if (devices.cameraTrack) devices.cameraTrack.enabled = !off;
      toggle(ui.cameraButton, off, S.cameraOn, S.cameraOff);
    });
    ui.shareButton.addEventListener("click", () => enqueue(() => this.toggleScreenShare()));
  }

  /** @private */
  async toggleScreenShare() {
    if (this.devices.screenTrack) {
      await this.stopScreenShare();
      return;
    }
    const screen = await this.devices.shareScreen();
    if (screen === null) {
      warn(S.shareFailed);
      return;
    }
    // The browser's own "stop sharing" bar ends the track.
    screen.addEventListener("ended", () => this.enqueue(() => this.stopScreenShare()));
    // The same sender, so the same encryption transform: the screen is encrypted like the camera.
    await this.videoSender()?.replaceTrack(screen);
    ui.localVideo.srcObject = new MediaStream([screen]);
    toggle(ui.shareButton, true, S.shareStop, S.shareStart);
  }

  async stopScreenShare() {
    this.devices.stopScreen();
    await this.videoSender()?.replaceTrack(this.devices.outgoingTrack("video"));
    ui.localVideo.srcObject = this.devices.stream;
    toggle(ui.shareButton, false, S.shareStop, S.shareStart);
  }
}

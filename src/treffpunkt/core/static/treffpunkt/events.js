// @ts-check
// Live notices for logged-in users: listens on the user's event stream and announces changes
// (a new appointment request, a confirmation, …) in a polite live region. Pages work without
// it; this only saves a reload. Reconnects with a growing pause after a drop (socket.js).
//
// The user's events carry sequence numbers (`seq`, per user); the page starts at the region's
// `data-seq` and asks for what it missed after a gap or a reconnection (sequence.js): the
// server sends the missed events, then {"type": "synced", "seq": n}. The unread count is a
// state, not an event: it carries no number and is always shown.
import { ReconnectingSocket, socketUrl } from "./socket.js";
import { SequenceTracker } from "./sequence.js";

/**
 * @typedef {object} UserEvent
 * @property {string} type
 * @property {number} [seq]
 * @property {number} [count] `unread`
 * @property {string} [url]
 * @property {number | string} [appointment]
 */

const region = document.getElementById("live-notices");
/** @type {Record<string, string>} */
const messages = region ? JSON.parse(region.dataset.messages || "{}") : {};

// The unread count of messages in the navigation (a badge and its words for screen readers).
/** @param {number} count */
function showUnread(count) {
  for (const badge of document.querySelectorAll("[data-unread-badge]")) {
    if (!(badge instanceof HTMLElement)) continue;
    badge.textContent = String(count);
    badge.hidden = count === 0;
  }
  for (const words of document.querySelectorAll("[data-unread-text]")) {
    if (!(words instanceof HTMLElement)) continue;
    const template = words.dataset.template ?? "";
    words.textContent = count === 0 ? "" : ` ${template.replace("{count}", String(count))}`;
  }
}

/** @param {UserEvent} event */
function announce(event) {
  const text = messages[event.type];
  if (!text || !region) return;
  // A new message on the page that shows it needs no notice.
  if (event.url && event.url === window.location.pathname) return;
  const item = document.createElement("p");
  item.className = "message message-info";
  const link = document.createElement("a");
  link.href =
    event.url || (event.appointment ? `/termine/${event.appointment}/` : window.location.href);
  link.textContent = text;
  item.append(link);
  region.replaceChildren(item);
}

function listen() {
  let reconnected = false;
  const sequence = new SequenceTracker({
    initial: region?.dataset.seq,
    requestSync: (afterSeq) => socket.send({ type: "sync", after_seq: afterSeq }),
  });
  const socket = new ReconnectingSocket({
    url: socketUrl("/ws/ereignisse/"),
    finalCodes: [4401], // logged out: nothing to listen to
    onOpen: (info) => {
      reconnected = info.reconnected;
    },
    onClose: () => sequence.disconnected(),
    /** @param {UserEvent} event */
    onEvent: (event) => {
      switch (event.type) {
        case "hello":
          sequence.hello(event.seq, { reconnected });
          break;
        case "pong":
          sequence.current(event.seq);
          break;
        case "synced":
          sequence.synced(event.seq);
          break;
        case "unread":
          showUnread(event.count ?? 0);
          break;
        default:
          if (sequence.accept(event.seq)) announce(event);
      }
    },
  });
  socket.start();
}

if (region) listen();

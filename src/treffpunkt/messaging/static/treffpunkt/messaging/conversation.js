// @ts-check
// A conversation page, live: new messages, read state, assignment and open/closed arrive over
// the page's socket; text messages go out over it. Without this script the page works by
// sending the form and reloading. Message text is always set with textContent, never as HTML.
//
// The conversation's events (message, status, assigned, read) carry sequence numbers; the page
// starts at `seq` of its data and asks for what it missed after a gap or a reconnection
// (sequence.js). The server answers with the missed messages and then the conversation's
// state: {"type": "state", "seq", "status", "assignee", "read": {"member", "staff"}}.
import { ReconnectingSocket, socketUrl } from "../socket.js";
import { SequenceTracker } from "../sequence.js";

/**
 * @typedef {object} Attachment
 * @property {string} name
 * @property {string} url
 * @property {number} size
 */

/**
 * @typedef {object} MessageEvent_
 * @property {number} id
 * @property {number} author_id
 * @property {string} author
 * @property {string} side
 * @property {string} created
 * @property {string} text
 * @property {Attachment[]} attachments
 */

/**
 * Every frame the server sends on this socket (the fields of each kind).
 * @typedef {object} ServerEvent
 * @property {string} type
 * @property {number} [seq]
 * @property {string} [status] hello, status, state
 * @property {number} [last_id] hello (without sequence numbers)
 * @property {string} [side] read
 * @property {number} [up_to] read
 * @property {string | null} [staff] assigned
 * @property {string | null} [assignee] state
 * @property {{member?: number, staff?: number}} [read] state
 * @property {string} [ref] sent, error
 * @property {string} [message] error
 */

/**
 * @typedef {object} PageData
 * @property {number} conversation
 * @property {number} user
 * @property {"member" | "staff"} side
 * @property {string} time_zone
 * @property {number} [seq]
 * @property {Record<string, string>} strings
 */

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{new (): T}} type
 * @returns {T}
 */
function find(id, type) {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing`);
  return found;
}

/** @type {PageData} */
const data = JSON.parse(find("conversation-data", HTMLScriptElement).textContent ?? "{}");
const strings = data.strings;
const list = find("message-list", HTMLElement);
const form = find("message-form", HTMLFormElement);
const textField = /** @type {HTMLTextAreaElement} */ (form.querySelector("textarea"));
const fileField = form.querySelector("input[type=file]");
const sendError = find("send-error", HTMLElement);
const connectionState = find("connection-state", HTMLElement);
const announcer = find("message-announcer", HTMLElement);
const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || "de", {
  dateStyle: "short",
  timeStyle: "short",
  timeZone: data.time_zone, // the person's own zone, as on the server-rendered messages
});

/** The rendered messages, in their order. */
function messageItems() {
  return /** @type {HTMLElement[]} */ ([...list.querySelectorAll("[data-id]")]);
}

let lastId = Math.max(0, ...messageItems().map((item) => Number(item.dataset.id)));
let readSent = 0;
let refCounter = 0;
let reconnected = false;
/** @type {Map<string, string>} ref → the text, until the server confirms it */
const pending = new Map();

/**
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** @param {number} bytes */
function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** @param {MessageEvent_} event */
function renderMessage(event) {
  const mine = event.author_id === data.user;
  const ours = event.side === data.side;
  const item = element("li", `message-item ${mine ? "message-mine" : `message-${event.side}`}`);
  item.id = `nachricht-${event.id}`;
  item.dataset.id = String(event.id);
  item.dataset.side = event.side;
  const meta = element("p", "message-meta");
  meta.append(element("strong", "", mine ? strings.you : event.author), " ");
  const time = /** @type {HTMLTimeElement} */ (
    element("time", "", timeFormat.format(new Date(event.created)))
  );
  time.dateTime = event.created;
  meta.append(time);
  item.append(meta);
  if (event.text) {
    const text = element("div", "message-text");
    text.textContent = event.text;
    item.append(text);
  }
  if (event.attachments.length) {
    const files = element("ul", "message-files");
    if (list.dataset.filesLabel) files.setAttribute("aria-label", list.dataset.filesLabel);
    for (const file of event.attachments) {
      const entry = element("li");
      const link = /** @type {HTMLAnchorElement} */ (element("a", "", file.name));
      link.href = file.url;
      entry.append(link, " ", element("span", "muted", `(${formatSize(file.size)})`));
      files.append(entry);
    }
    item.append(files);
  }
  if (ours) {
    const read = element("p", "message-read muted", strings.read);
    read.hidden = true;
    item.append(read);
  }
  return item;
}

/** @param {MessageEvent_} event */
function addMessage(event) {
  if (document.getElementById(`nachricht-${event.id}`)) return;
  document.getElementById("no-messages")?.remove();
  const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
  // Messages of one conversation are numbered in the order they were written; one that arrives
  // late (two posts finishing at once, or a sync after a gap) still goes to its place.
  const later = messageItems().find((item) => Number(item.dataset.id) > event.id);
  const rendered = renderMessage(event);
  if (later) later.before(rendered);
  else list.append(rendered);
  lastId = Math.max(lastId, event.id);
  if (event.author_id !== data.user) {
    announce(strings.new_message.replace("%(name)s", event.author));
    markRead();
  }
  if (nearBottom || event.author_id === data.user) rendered.scrollIntoView({ block: "nearest" });
}

/** @param {number} upTo */
function showRead(upTo) {
  for (const item of list.querySelectorAll(`[data-side="${data.side}"]`)) {
    if (!(item instanceof HTMLElement) || Number(item.dataset.id) > upTo) continue;
    const read = item.querySelector(".message-read");
    if (read instanceof HTMLElement) read.hidden = false;
  }
}

// Changes that arrive by themselves are also said in the polite live region, each as a line of
// its own (a message and a status change at once are both read); the last few lines stay.
/** @param {string} text */
function announce(text) {
  announcer.append(element("p", "", text));
  while (announcer.firstElementChild && announcer.childElementCount > 3) {
    announcer.firstElementChild.remove();
  }
}

// "Status: Open", "Adviser: Bernd Berater": the term of the facts list, then the new value.
/**
 * @param {HTMLElement} holder
 * @param {string} value
 */
function announceFact(holder, value) {
  const term = holder.previousElementSibling ? holder.previousElementSibling.textContent : "";
  announce(term ? `${term}: ${value}` : value);
}

function shownStatus() {
  const holder = find("conversation-status", HTMLElement);
  return holder.querySelector(".status-open") ? "open" : "closed";
}

/**
 * @param {string} status
 * @param {{announced?: boolean}} [options]
 */
function showStatus(status, { announced = false } = {}) {
  const holder = find("conversation-status", HTMLElement);
  const open = status === "open";
  const word = (open ? holder.dataset.open : holder.dataset.closed) ?? status;
  holder.replaceChildren(element("span", `status status-${status}`, word));
  const notice = find("closed-notice", HTMLElement);
  notice.hidden = open;
  if (announced) {
    if (open) announceFact(holder, word);
    else announce(notice.textContent ?? "");
  }
}

/**
 * @param {string | null | undefined} name
 * @param {{onlyIfChanged?: boolean}} [options]
 */
function showAssignee(name, { onlyIfChanged = false } = {}) {
  const holder = find("conversation-assignee", HTMLElement);
  const text = name || strings.nobody;
  if (onlyIfChanged && holder.textContent === text) return;
  holder.textContent = text;
  announceFact(holder, text);
}

/** @param {string} text */
function showError(text) {
  sendError.replaceChildren(element("p", "", text));
  sendError.hidden = false;
}

// Read only what a person can see: a page in a background tab marks nothing.
function markRead() {
  if (document.visibilityState !== "visible" || !socket.isOpen) return;
  if (lastId <= readSent) return;
  readSent = lastId;
  socket.send({ type: "read", up_to: lastId });
}

// A page rendered without a number starts at the first hello's, and fetches the messages
// written before that by id; from a server without numbers every event is applied, and after
// every (re)connection the messages after the newest one the page has are fetched.
const sequence = new SequenceTracker({
  initial: data.seq,
  requestSync: (afterSeq) => socket.send({ type: "sync", after_seq: afterSeq }),
});

/**
 * What a sync ends with: the conversation as it is now. Changes are said as if they had
 * arrived one by one.
 * @param {ServerEvent} event
 */
function applyState(event) {
  if (event.status && event.status !== shownStatus()) {
    showStatus(event.status, { announced: true });
  }
  if ("assignee" in event) showAssignee(event.assignee, { onlyIfChanged: true });
  const otherSide = data.side === "staff" ? "member" : "staff";
  const theirs = event.read?.[otherSide];
  if (typeof theirs === "number") showRead(theirs);
  sequence.synced(event.seq);
}

/** @param {ServerEvent} event */
function handle(event) {
  switch (event.type) {
    case "hello": {
      if (event.status) showStatus(event.status);
      const tracked = sequence.lastSeq !== null;
      sequence.hello(event.seq, { reconnected });
      if (!tracked && (event.last_id ?? 0) > lastId) {
        // Rendered without a number: the messages after the newest one the page has.
        socket.send({ type: "sync", after: lastId });
      }
      markRead();
      return;
    }
    case "pong":
      sequence.current(event.seq);
      return;
    case "state":
      applyState(event);
      return;
    case "sent":
      if (event.ref) pending.delete(event.ref);
      return;
    case "error":
      if (event.ref && pending.has(event.ref)) {
        // Give the text back, so nothing typed is lost.
        textField.value = pending.get(event.ref) + (textField.value ? `\n${textField.value}` : "");
        pending.delete(event.ref);
      }
      showError(event.message || strings.failed);
      return;
    default:
      break;
  }
  // The conversation's own events: each once, in any order. A message goes to its place by
  // its id, which also drops a repeat (and takes one that came with a sync by id).
  const fresh = sequence.accept(event.seq);
  if (event.type === "message") {
    addMessage(/** @type {MessageEvent_} */ (/** @type {unknown} */ (event)));
    return;
  }
  if (!fresh) return;
  switch (event.type) {
    case "read":
      if (event.side !== data.side && typeof event.up_to === "number") showRead(event.up_to);
      break;
    case "assigned":
      showAssignee(event.staff);
      break;
    case "status":
      if (event.status) showStatus(event.status, { announced: true });
      break;
    default:
      break;
  }
}

const socket = new ReconnectingSocket({
  url: socketUrl(`/ws/nachrichten/${data.conversation}/`),
  // Logged out, or not ours: the form still works.
  finalCodes: [4401, 4404],
  onOpen: (info) => {
    reconnected = info.reconnected;
    readSent = 0;
    connectionState.textContent = strings.online;
  },
  onClose: (code, { final }) => {
    sequence.disconnected();
    if (!final) connectionState.textContent = strings.offline;
  },
  onEvent: handle,
});

form.addEventListener("submit", (submit) => {
  // Files go with the form (a normal upload); text alone goes over the socket when it is open.
  if (!socket.isOpen || (fileField instanceof HTMLInputElement && fileField.files?.length)) return;
  submit.preventDefault();
  sendError.hidden = true;
  const ref = `m${Date.now()}-${(refCounter += 1)}`;
  pending.set(ref, textField.value);
  socket.send({ type: "send", text: textField.value, ref });
  textField.value = "";
  textField.focus();
});

document.addEventListener("visibilitychange", markRead);
socket.start();

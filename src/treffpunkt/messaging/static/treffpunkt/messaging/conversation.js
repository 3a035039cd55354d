// A conversation page, live: new messages, read state, assignment and open/closed arrive over
// the page's socket; text messages go out over it. Without this script the page works by
// sending the form and reloading. Message text is always set with textContent, never as HTML.
const data = JSON.parse(document.getElementById("conversation-data").textContent);
const strings = data.strings;
const list = document.getElementById("message-list");
const form = document.getElementById("message-form");
const textField = form.querySelector("textarea");
const fileField = form.querySelector("input[type=file]");
const sendError = document.getElementById("send-error");
const connectionState = document.getElementById("connection-state");
const announcer = document.getElementById("message-announcer");
const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || "de", {
  dateStyle: "short",
  timeStyle: "short",
  timeZone: data.time_zone, // the person's own zone, as on the server-rendered messages
});

let socket = null;
let pingTimer = null;
let lastId = Math.max(0, ...[...list.querySelectorAll("[data-id]")].map((item) => Number(item.dataset.id)));
let readSent = 0;
let refCounter = 0;
const pending = new Map(); // ref → the text, until the server confirms it

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function renderMessage(event) {
  const mine = event.author_id === data.user;
  const ours = event.side === data.side;
  const item = element("li", `message-item ${mine ? "message-mine" : `message-${event.side}`}`);
  item.id = `nachricht-${event.id}`;
  item.dataset.id = String(event.id);
  item.dataset.side = event.side;
  const meta = element("p", "message-meta");
  meta.append(element("strong", "", mine ? strings.you : event.author), " ");
  const time = element("time", "", timeFormat.format(new Date(event.created)));
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
      const link = element("a", "", file.name);
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

function addMessage(event) {
  if (document.getElementById(`nachricht-${event.id}`)) return;
  document.getElementById("no-messages")?.remove();
  const nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 200;
  // Messages of one conversation are numbered in the order they were written; one that arrives
  // late (two posts finishing at once) still goes to its place.
  const later = [...list.querySelectorAll("[data-id]")].find((item) => Number(item.dataset.id) > event.id);
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

function showRead(upTo) {
  for (const item of list.querySelectorAll(`[data-side="${data.side}"]`)) {
    if (Number(item.dataset.id) <= upTo) {
      const read = item.querySelector(".message-read");
      if (read) read.hidden = false;
    }
  }
}

// Changes that arrive by themselves are also said in the polite live region, each as a line of
// its own (a message and a status change at once are both read); the last few lines stay.
function announce(text) {
  announcer.append(element("p", "", text));
  while (announcer.childElementCount > 3) announcer.firstElementChild.remove();
}

// "Status: Open", "Adviser: Bernd Berater": the term of the facts list, then the new value.
function announceFact(holder, value) {
  const term = holder.previousElementSibling ? holder.previousElementSibling.textContent : "";
  announce(term ? `${term}: ${value}` : value);
}

function showStatus(status, { announced = false } = {}) {
  const holder = document.getElementById("conversation-status");
  const open = status === "open";
  const word = open ? holder.dataset.open : holder.dataset.closed;
  holder.replaceChildren(element("span", `status status-${status}`, word));
  const notice = document.getElementById("closed-notice");
  notice.hidden = open;
  if (announced) {
    if (open) announceFact(holder, word);
    else announce(notice.textContent);
  }
}

function showAssignee(name) {
  const holder = document.getElementById("conversation-assignee");
  holder.textContent = name || strings.nobody;
  announceFact(holder, holder.textContent);
}

function showError(text) {
  sendError.replaceChildren(element("p", "", text));
  sendError.hidden = false;
}

// Read only what a person can see: a page in a background tab marks nothing.
function markRead() {
  if (document.visibilityState !== "visible" || !socket || socket.readyState !== WebSocket.OPEN) return;
  if (lastId <= readSent) return;
  readSent = lastId;
  socket.send(JSON.stringify({ type: "read", up_to: lastId }));
}

function handle(event) {
  switch (event.type) {
    case "hello":
      showStatus(event.status);
      if (event.last_id > lastId) socket.send(JSON.stringify({ type: "sync", after: lastId }));
      markRead();
      break;
    case "message":
      addMessage(event);
      break;
    case "read":
      if (event.side !== data.side) showRead(event.up_to);
      break;
    case "assigned":
      showAssignee(event.staff);
      break;
    case "status":
      showStatus(event.status, { announced: true });
      break;
    case "sent":
      pending.delete(event.ref);
      break;
    case "error":
      if (event.ref && pending.has(event.ref)) {
        // Give the text back, so nothing typed is lost.
        textField.value = pending.get(event.ref) + (textField.value ? `\n${textField.value}` : "");
        pending.delete(event.ref);
      }
      showError(event.message || strings.failed);
      break;
    default:
      break;
  }
}

function connect(attempt = 0) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${window.location.host}/ws/nachrichten/${data.conversation}/`);
  socket.addEventListener("open", () => {
    attempt = 0;
    readSent = 0;
    connectionState.textContent = strings.online;
    pingTimer = window.setInterval(() => socket.send(JSON.stringify({ type: "ping" })), 30000);
  });
  socket.addEventListener("message", (message) => {
    try {
      handle(JSON.parse(message.data));
    } catch (error) {
      console.warn("unreadable event", error);
    }
  });
  socket.addEventListener("close", (closed) => {
    window.clearInterval(pingTimer);
    if (closed.code === 4401 || closed.code === 4404) return; // logged out, or not ours: the form still works
    connectionState.textContent = strings.offline;
    const pause = Math.min(30000, 1000 * 2 ** attempt);
    window.setTimeout(() => connect(attempt + 1), pause);
  });
}

form.addEventListener("submit", (submit) => {
  // Files go with the form (a normal upload); text alone goes over the socket when it is open.
  if (!socket || socket.readyState !== WebSocket.OPEN || (fileField && fileField.files.length)) return;
  submit.preventDefault();
  sendError.hidden = true;
  const ref = `m${Date.now()}-${(refCounter += 1)}`;
  pending.set(ref, textField.value);
  socket.send(JSON.stringify({ type: "send", text: textField.value, ref }));
  textField.value = "";
  textField.focus();
});

document.addEventListener("visibilitychange", markRead);
connect();

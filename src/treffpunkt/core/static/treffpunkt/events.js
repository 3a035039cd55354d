// Live notices for logged-in users: listens on the user's event stream and announces changes
// (a new appointment request, a confirmation, …) in a polite live region. Pages work without
// it; this only saves a reload. Reconnects with a growing pause after a drop.
const region = document.getElementById("live-notices");
const messages = region ? JSON.parse(region.dataset.messages || "{}") : {};

// The unread count of messages in the navigation (a badge and its words for screen readers).
function showUnread(count) {
  for (const badge of document.querySelectorAll("[data-unread-badge]")) {
    badge.textContent = String(count);
    badge.hidden = count === 0;
  }
  for (const words of document.querySelectorAll("[data-unread-text]")) {
    words.textContent = count === 0 ? "" : ` ${words.dataset.template.replace("{count}", count)}`;
  }
}

function announce(event) {
  if (event.type === "unread") {
    showUnread(event.count);
    return;
  }
  const text = messages[event.type];
  if (!text || !region) return;
  // A new message on the page that shows it needs no notice.
  if (event.url && event.url === window.location.pathname) return;
  const item = document.createElement("p");
  item.className = "message message-info";
  const link = document.createElement("a");
  link.href = event.url || (event.appointment ? `/termine/${event.appointment}/` : window.location.href);
  link.textContent = text;
  item.append(link);
  region.replaceChildren(item);
}

function connect(attempt = 0) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/ws/ereignisse/`);
  socket.addEventListener("open", () => { attempt = 0; });
  socket.addEventListener("message", (message) => {
    try {
      announce(JSON.parse(message.data));
    } catch (error) {
      console.warn("unreadable event", error);
    }
  });
  socket.addEventListener("close", (closed) => {
    if (closed.code === 4401) return; // logged out: nothing to listen to
    const pause = Math.min(30000, 1000 * 2 ** attempt);
    window.setTimeout(() => connect(attempt + 1), pause);
  });
}

if (region) connect();

// Web chat client: sends each message with its own id and retries with the SAME id (so nothing is stored
// twice) until the server confirms it was stored. Retries are bounded: after MAX_TRIES tries with growing
// waits the page stops, says the message was NOT saved, and offers a "Try again" button (same id again).
(function () {
  "use strict";
  const MAX_TRIES = 5;          // tries per message before the page stops and explains
  const FIRST_WAIT_MS = 1000;   // wait before the 2nd try; doubled before each later one (1, 2, 4, 8 s)
  const GAVE_UP = "I still couldn't save that message, so I've stopped trying. It has NOT been saved yet. " +
    "Press \u201cTry again\u201d when you're ready, or come back later.";
  const log = document.getElementById("log");
  const choicesBox = document.getElementById("choices");
  const statusBox = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("composer-text");
  const queue = [];
  let busy = false;
  let stopped = false;  // gave up on the first queued message until the person presses "Try again"

  function newId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "w" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function bubble(text, who) {
    const li = document.createElement("li");
    li.className = who;
    li.textContent = text;
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function showChoices(reply) {
    choicesBox.replaceChildren();
    choicesBox.className = "choices" + (reply && reply.layout === "scale" ? " scale" : "");
    if (!reply) return;
    reply.choices.forEach((c) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = c.label;
      b.dataset.token = c.token;
      b.addEventListener("click", () => send({ payload: c.token }, c.label));
      choicesBox.appendChild(b);
    });
  }

  function render(replies) {
    let last = null;
    replies.forEach((r) => { bubble(r.text, "bot"); if (r.choices.length) last = r; });
    showChoices(replies.length ? (replies[replies.length - 1].choices.length ? replies[replies.length - 1] : last) : null);
  }

  function send(body, shown) {
    if (shown) bubble(shown, "me");
    queue.push({ body: Object.assign({ message_id: newId() }, body), tries: 0 });
    pump();
  }

  // Stop retrying: say plainly that the message was not saved, and offer to try it again (same id, so a
  // late success is still stored once). Messages typed after it wait behind it.
  function giveUp(item) {
    stopped = true;
    statusBox.textContent = "";
    bubble(GAVE_UP, "bot");
    choicesBox.replaceChildren();
    choicesBox.className = "choices";
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "Try again";
    b.addEventListener("click", () => {
      item.tries = 0;
      item.retried = true;
      stopped = false;
      choicesBox.replaceChildren();
      pump();
    });
    choicesBox.appendChild(b);
  }

  async function pump() {
    if (busy || stopped || !queue.length) return;
    busy = true;
    const item = queue[0];
    try {
      const res = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "same-origin",
        body: JSON.stringify(item.body),
      });
      const data = await res.json();
      if (!res.ok && res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) {
        // Sending it again would get the same answer: say why, and move on to the next message.
        bubble(data.error || "Sorry, I couldn't read that message.", "bot");
        queue.shift();
        statusBox.textContent = "";
        busy = false;
        pump();
        return;
      }
      if (!res.ok) {
        const e = new Error(data.error || "server error");
        e.show = res.status === 429;  // "wait a few minutes": worth showing while the page waits to try again
        throw e;
      }
      // Say "couldn't save" once, not on every retry (nor again after "Try again").
      if (!(data.retry && (item.tries > 0 || item.retried))) render(data.replies);
      if (data.retry) throw new Error("not stored yet");
      queue.shift();
      statusBox.textContent = "";
    } catch (err) {
      item.tries += 1;
      busy = false;
      if (item.tries >= MAX_TRIES) { giveUp(item); return; }
      statusBox.textContent = (err.show ? err.message + " " : "Couldn't save that yet. ") +
        "Trying again… (" + item.tries + " of " + MAX_TRIES + ")";
      setTimeout(pump, FIRST_WAIT_MS * 2 ** (item.tries - 1));
      return;
    }
    busy = false;
    pump();
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    send({ text: text }, text);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  document.querySelectorAll("[data-command]").forEach((b) =>
    b.addEventListener("click", () => send({ text: b.dataset.command }, b.textContent)));

  const start = new URLSearchParams(location.search).get("start");
  send({ text: start ? "/start " + start : "/start" });
})();

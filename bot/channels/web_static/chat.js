// Web chat client: sends each message with its own id and retries with the SAME id until the
// server confirms it was stored, so a flaky connection or a database blip never loses an answer.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const choicesBox = document.getElementById("choices");
  const statusBox = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("composer-text");
  const queue = [];
  let busy = false;

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

  async function pump() {
    if (busy || !queue.length) return;
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
      if (!res.ok) throw new Error(data.error || "server error");
      if (!(data.retry && item.tries > 0)) render(data.replies);  // say "couldn't save" once, not every retry
      if (data.retry) throw new Error("not stored yet");
      queue.shift();
      statusBox.textContent = "";
    } catch (err) {
      item.tries += 1;
      statusBox.textContent = "Couldn't reach ourvoice. Trying again… (nothing you've said is lost)";
      busy = false;
      setTimeout(pump, Math.min(30000, 1000 * 2 ** Math.min(item.tries, 5)));
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

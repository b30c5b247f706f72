// Web chat client. Owns: drawing messages with their own buttons, keeping the newest message and its buttons in
// view (the conversation scrolls, never the page), the typing indicator, focus after each reply, and sending.
// Sending: each message has its own id and is retried with the SAME id (so nothing is stored twice) until the
// server confirms it was stored. Retries are bounded: after MAX_TRIES tries with growing waits the page stops,
// says the message was NOT saved, and offers a "Try again" button (same id again).
// Must not: decide what a button means (tokens are opaque), or keep anything a person wrote after it is sent.
(function () {
  "use strict";
  const MAX_TRIES = 5;          // tries per message before the page stops and explains
  const FIRST_WAIT_MS = 1000;   // wait before the 2nd try; doubled before each later one (1, 2, 4, 8 s)
  const GAVE_UP = "I still couldn't save that message, so I've stopped trying. It has NOT been saved yet. " +
    "Press \u201cTry again\u201d when you're ready, or come back later.";
  const TOOLBAR_TOKENS = new Set(["back"]);  // Back is in the tool bar, so it is not repeated under a question
  const EXTRA_TOKENS = new Set(["skip", "back", "done"]);  // not answers: a question without others wants words
  const log = document.getElementById("log");
  const conv = document.getElementById("conversation");
  const region = document.getElementById("log-region");
  const typing = document.getElementById("typing");
  const statusBox = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("composer-text");
  const queue = [];
  let busy = false;
  let stopped = false;  // gave up on the first queued message until the person presses "Try again"
  let answered = 0;     // replies drawn so far: the very first (on page load) does not move focus

  function newId() {
    const bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return "w" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // -- messages -----------------------------------------------------------------------------------------------
  function addMessage(who, text, reply) {
    const li = el("li", "msg " + who);
    const bubble = el("div", "bubble");
    bubble.appendChild(el("span", "visually-hidden", who === "me" ? "You said: " : "ourvoice said: "));
    li.appendChild(bubble);
    fillBubble(li, text, reply);
    log.appendChild(li);
    return li;
  }

  function fillBubble(li, text, reply) {
    const bubble = li.querySelector(".bubble");
    bubble.querySelectorAll(".progress, .text").forEach((n) => n.remove());
    const progress = reply && reply.progress;
    if (progress && progress.length === 2 && progress[1] > 1) {  // "1 of 1" tells nobody anything
      const p = el("p", "progress");
      p.appendChild(el("span", "", "Question " + progress[0] + " of " + progress[1]));
      const bar = el("progress");
      bar.max = progress[1];
      bar.value = progress[0];
      bar.setAttribute("aria-hidden", "true");  // the words beside it say the same
      p.appendChild(bar);
      bubble.appendChild(p);
    }
    const words = el("div", "text", text);
    // Issue 24: each message in its own language and direction (a multilingual safe reply is "mul": its lines
    // are isolated by the server, so the bubble itself follows the text); what a person types follows its text.
    if (reply && reply.lang && reply.lang !== "mul") {
      li.lang = reply.lang;
      li.dir = reply.dir || "auto";
    } else if (li.classList.contains("bot") && !(reply && reply.lang === "mul")) {
      li.lang = "en";  // the bot's own English, laid out left to right even on a right-to-left page
      li.dir = "ltr";
    } else {
      words.dir = "auto";  // what the person typed, and a safe reply in many languages, follow their text
    }
    if (reply && reply.draft) {
      const mark = el("p", "draft", "Draft translation");
      mark.lang = "en";
      mark.dir = "ltr";
      bubble.appendChild(mark);
    }
    bubble.appendChild(words);
  }

  function followLanguage(replies) {
    // The page takes the language of the newest reply that names one (not a safe reply in many languages).
    const named = replies.filter((r) => r.lang && r.lang !== "mul");
    const last = named.length ? named[named.length - 1] : null;
    if (last) {
      document.documentElement.lang = last.lang;
      document.documentElement.dir = last.dir || "ltr";
    } else if (replies.length && replies.every((r) => !r.lang)) {
      document.documentElement.lang = "en";
      document.documentElement.dir = "ltr";
    }
  }

  function shownChoices(reply) {
    return (reply.choices || []).filter((c) => !TOOLBAR_TOKENS.has(c.token));
  }

  function wantsWords(reply) {
    return Boolean(reply.free_text) || !shownChoices(reply).some((c) => !EXTRA_TOKENS.has(c.token));
  }

  // A label that is only a face gets words beside it (`name`, from the server); a leading emoji is set apart.
  function fillLabel(b, c) {
    b.replaceChildren();
    const lead = /^([^\p{L}\p{N}]+?)\s+(.+)$/u.exec(c.label);
    if (c.name) {
      b.appendChild(el("span", "face", c.label)).setAttribute("aria-hidden", "true");
      b.appendChild(el("span", "words", c.name));
    } else if (lead && !/[\p{L}\p{N}]/u.test(lead[1])) {
      b.appendChild(el("span", "face", lead[1]));
      b.appendChild(el("span", "words", lead[2]));
    } else {
      b.textContent = c.label;
    }
    if (typeof c.pressed === "boolean") b.setAttribute("aria-pressed", String(c.pressed));
    else b.removeAttribute("aria-pressed");
  }

  function spoken(c) {
    return c.name ? c.label + " " + c.name : c.label;
  }

  function drawChoices(li, reply) {
    const old = li.querySelector(".choices");
    const choices = shownChoices(reply);
    const layout = reply.layout === "scale" || reply.layout === "menu" || reply.layout === "multi" ? reply.layout : "buttons";
    const tokens = choices.map((c) => c.token).join("\n");
    if (old && old.dataset.tokens === tokens) {  // same buttons (a toggle changed): update them in place
      old.querySelectorAll("button").forEach((b, i) => fillLabel(b, choices[i]));
      li.reply = reply;
      return old;
    }
    const hadFocus = old && old.contains(document.activeElement) ? document.activeElement.dataset.token : null;
    if (old) old.remove();
    li.reply = reply;
    if (!choices.length) return null;
    const group = el("div", "choices " + layout + (layout === "menu" && choices.length > 6 ? " long" : ""));
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Answers you can tap");
    group.dataset.tokens = tokens;
    choices.forEach((c) => {
      const b = el("button");
      b.type = "button";
      b.dataset.token = c.token;
      if (layout === "scale") b.classList.add(EXTRA_TOKENS.has(c.token) ? "extra" : "scale-value");
      if (c.token === "done") b.classList.add("done");
      fillLabel(b, c);
      b.addEventListener("click", () => tap(li, c.token));
      group.appendChild(b);
    });
    li.appendChild(group);
    if (hadFocus) {
      const again = group.querySelector('button[data-token="' + CSS.escape(hadFocus) + '"]');
      if (again) again.focus({ preventScroll: true });
    }
    return group;
  }

  function tap(li, token) {
    const c = shownChoices(li.reply).find((x) => x.token === token);
    if (!c) return;
    if (queue.some((item) => item.body.payload === token)) return;  // already on its way
    // A toggle shows the choice itself (pressed or not); anything else is said in the conversation.
    send({ payload: token }, typeof c.pressed === "boolean" ? null : spoken(c));
  }

  // Buttons stay with their message. When a reply brings buttons of its own, earlier ones are spent (the server
  // takes only the newest step's answers), except those the server marks `lasting` (a survey's Start).
  function spendEarlierButtons() {
    log.querySelectorAll(".msg").forEach((li) => {
      if (li.reply && li.reply.lasting) return;
      const group = li.querySelector(".choices");
      if (group) group.remove();
    });
  }

  function markNewestChoices() {
    const current = document.getElementById("choices");
    if (current) current.removeAttribute("id");
    const groups = log.querySelectorAll(".choices");
    if (groups.length) groups[groups.length - 1].id = "choices";
  }

  function latestWithButtons() {
    const groups = log.querySelectorAll(".msg.bot .choices");
    return groups.length ? groups[groups.length - 1].closest(".msg") : null;
  }

  // -- view and focus -----------------------------------------------------------------------------------------
  function scrollToLatest() {
    const last = log.lastElementChild;
    if (conv.scrollHeight <= conv.clientHeight + 1) {  // short screens: the page scrolls, not the conversation
      if (last) last.scrollIntoView({ block: "nearest" });
      return;
    }
    let top = conv.scrollHeight - conv.clientHeight;   // the bottom: newest message and its buttons
    if (last && !typing.classList.contains("on") && last.offsetHeight > conv.clientHeight - 16) {
      top = last.offsetTop - 8;                        // taller than the screen: show where it starts
    }
    conv.scrollTop = top;
  }

  function focusAfterReply(target) {
    if (document.activeElement === input && input.value) return;  // they are typing the next message
    const group = target && target.querySelector(".choices");
    if (group && !wantsWords(target.reply)) {
      group.querySelector("button").focus({ preventScroll: true });
    } else {
      input.focus({ preventScroll: true });
    }
  }

  function showTyping(on) {
    region.setAttribute("aria-busy", String(on));  // screen readers wait for the whole reply; tests wait on it
    typing.classList.toggle("on", on);
    if (on) {
      typing.replaceChildren(el("span", "dot"), el("span", "dot"), el("span", "dot"),
        el("span", "visually-hidden", "ourvoice is typing\u2026"));
      typing.querySelectorAll(".dot").forEach((d) => d.setAttribute("aria-hidden", "true"));
      scrollToLatest();
    } else {
      typing.replaceChildren();
    }
  }

  function render(replies) {
    followLanguage(replies);
    const fresh = replies.filter((r) => !r.update);
    if (fresh.some((r) => shownChoices(r).length)) spendEarlierButtons();
    let target = null;  // the message whose buttons (or text box) come next
    replies.forEach((r) => {
      const live = r.update ? latestWithButtons() : null;
      if (live) {  // a restatement (a toggle): its buttons change in place; the question's words stay on screen
        drawChoices(live, r);
        target = live;
        return;
      }
      const li = addMessage("bot", r.text, r);
      drawChoices(li, r);
      target = li;
    });
    markNewestChoices();
    showTyping(false);
    scrollToLatest();
    const first = answered === 0;
    answered += replies.length;
    if (!first && target && !(replies.length === 1 && replies[0].update)) focusAfterReply(target);
    scrollToLatest();
  }

  function note(text) {
    const li = addMessage("bot", text, null);
    li.classList.add("note");
    scrollToLatest();
    return li;
  }

  // -- sending ------------------------------------------------------------------------------------------------
  function send(body, shown) {
    if (shown) {
      addMessage("me", shown, null);
      scrollToLatest();
    }
    queue.push({ body: Object.assign({ message_id: newId() }, body), tries: 0 });
    pump();
  }

  // Stop retrying: say plainly that the message was not saved, and offer to try it again (same id, so a
  // late success is still stored once). Messages typed after it wait behind it.
  function giveUp(item) {
    stopped = true;
    statusBox.textContent = "";
    showTyping(false);
    const li = note(GAVE_UP);
    const group = el("div", "choices buttons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Answers you can tap");
    const b = el("button", "", "Try again");
    b.type = "button";
    b.addEventListener("click", () => {
      item.tries = 0;
      item.retried = true;
      stopped = false;
      group.remove();
      markNewestChoices();
      pump();
    });
    group.appendChild(b);
    li.appendChild(group);
    markNewestChoices();
    scrollToLatest();
    b.focus({ preventScroll: true });
  }

  async function pump() {
    if (busy || stopped || !queue.length) return;
    busy = true;
    const item = queue[0];
    showTyping(true);
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
        showTyping(false);
        note(data.error || "Sorry, I couldn't read that message.");
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
      showTyping(false);
      if (item.tries >= MAX_TRIES) { giveUp(item); return; }
      statusBox.textContent = (err.show ? err.message + " " : "Couldn't save that yet. ") +
        "Trying again\u2026 (" + item.tries + " of " + MAX_TRIES + ")";
      setTimeout(pump, FIRST_WAIT_MS * 2 ** (item.tries - 1));
      return;
    }
    busy = false;
    if (!queue.length) showTyping(false);
    pump();
  }

  function fitInput() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 4, 144) + "px";
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    fitInput();
    send({ text: text }, text);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", fitInput);
  // The tool bar sends what the slash commands did, so nobody has to type one.
  document.querySelectorAll("[data-command]").forEach((b) =>
    b.addEventListener("click", () => send({ text: b.dataset.command }, b.textContent)));
  window.addEventListener("resize", scrollToLatest);

  // -- forget this device -------------------------------------------------------------------------------------
  // For a shared phone or computer: the server unlinks this browser from the chat and gives it a new, unknown
  // cookie; the page then clears what it shows. Coming back means typing the invite code again.
  const forgetButton = document.getElementById("forget");
  const forgetPanel = document.getElementById("forget-panel");
  if (forgetButton && forgetPanel) {
    const showForget = (on) => {
      forgetPanel.hidden = !on;
      forgetButton.setAttribute("aria-expanded", on ? "true" : "false");
    };
    forgetButton.addEventListener("click", () => {
      showForget(forgetPanel.hidden);
      if (!forgetPanel.hidden) document.getElementById("forget-no").focus();
    });
    document.getElementById("forget-no").addEventListener("click", () => { showForget(false); forgetButton.focus(); });
    document.getElementById("forget-yes").addEventListener("click", async () => {
      let message = "";
      try {
        const res = await fetch("/api/forget", { method: "POST", credentials: "same-origin" });
        if (!res.ok) throw new Error("refused");
        message = (await res.json()).message || "";
      } catch (err) {
        statusBox.textContent = "Sorry, that didn't work. Please try again.";
        return;
      }
      showForget(false);
      queue.length = 0;
      log.replaceChildren();
      statusBox.textContent = "";
      note(message);
      forgetButton.focus();
    });
  }

  const start = new URLSearchParams(location.search).get("start");
  // The code from an invite link is sent once, then taken out of the address (and so out of this browser's
  // history entry), so a shared device does not keep it for the next person.
  if (start) history.replaceState(null, "", location.pathname);
  send({ text: start ? "/start " + start : "/start" });
})();

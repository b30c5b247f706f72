// Pings for the web chat (issue 25): the "Pings" button in the header, its explanation, and turning pings on
// and off. Owns: the service worker's registration and this browser's push subscription.
// Must not: turn pings on without the person pressing "Yes", or send anything but the subscription.
// The button stays hidden when the browser cannot do pings or the server has no key for them.
(function () {
  "use strict";
  const button = document.getElementById("pings");
  const panel = document.getElementById("pings-panel");
  const yes = document.getElementById("pings-yes");
  const no = document.getElementById("pings-no");
  const off = document.getElementById("pings-off");
  const said = document.getElementById("pings-said");
  if (!button || !panel || !("serviceWorker" in navigator) || !("PushManager" in window) ||
      !("Notification" in window)) return;
  const CANNOT = "This browser can't do pings, sorry. You'll still see new messages when you come back to the chat.";
  const REFUSED = "Your browser said no to pings. You can allow them in the browser's settings for this site.";
  let key = "";

  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }

  async function post(path, body) {
    const res = await fetch(path, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    return { ok: res.ok, message: data.message || data.error || "" };
  }

  async function current() {
    const reg = await navigator.serviceWorker.getRegistration("/");
    return reg ? reg.pushManager.getSubscription() : null;
  }

  async function show(on) {
    panel.hidden = !on;
    button.setAttribute("aria-expanded", on ? "true" : "false");
    if (!on) return;
    const sub = await current().catch(() => null);
    yes.hidden = Boolean(sub);
    no.hidden = Boolean(sub);
    off.hidden = !sub;
    said.textContent = "";
    (sub ? off : yes).focus();
  }

  // Registered when the person says yes (and again on later visits only if they did), never before.
  async function turnOn() {
    said.textContent = "";
    try {
      const reg = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
      if (await Notification.requestPermission() !== "granted") { said.textContent = REFUSED; return; }
      await navigator.serviceWorker.ready;
      const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: fromB64url(key) });
      const answer = await post("/api/push/subscribe", sub.toJSON());
      if (!answer.ok) await sub.unsubscribe();
      said.textContent = answer.message;
      if (answer.ok) { yes.hidden = true; no.hidden = true; off.hidden = false; }
    } catch (err) {
      said.textContent = CANNOT;
    }
  }

  async function turnOff() {
    const sub = await current().catch(() => null);
    if (sub) {
      const answer = await post("/api/push/unsubscribe", { endpoint: sub.endpoint });
      await sub.unsubscribe();
      said.textContent = answer.message;
    }
    yes.hidden = false; no.hidden = false; off.hidden = true;
  }

  button.addEventListener("click", () => show(panel.hidden));
  no.addEventListener("click", () => { show(false); button.focus(); });
  yes.addEventListener("click", turnOn);
  off.addEventListener("click", turnOff);
  // "Forget this device" also stops this device's pings (the server forgets the subscription too).
  const forgetYes = document.getElementById("forget-yes");
  if (forgetYes) forgetYes.addEventListener("click", () => { turnOff().catch(() => {}); });

  fetch("/api/push/key", { credentials: "same-origin" }).then((r) => r.json()).then((data) => {
    if (!data.enabled || !data.key) return;
    key = data.key;
    button.hidden = false;
  }).catch(() => {});
})();

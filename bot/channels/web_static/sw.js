// The web chat's service worker (issue 25): shows ONE fixed notification when a push arrives.
// Owns: the notification and what tapping it does (open or focus the chat).
// Must not: show anything a push carries. Whatever arrives, the words are always the same neutral sentence, so
// nothing about a message can appear on a shared or locked screen. No fetch handler: it never sits between the
// browser and a page.
"use strict";
const TITLE = "ourvoice";
const BODY = "You have a new message from ourvoice";

function ping() {
  return self.registration.showNotification(TITLE, {
    body: BODY,
    tag: "ourvoice-new-message",  // several pings replace each other instead of piling up
    icon: "/static/push/icon-192.png",
  });
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// A push from our server (its body is the same sentence, and is not read).
self.addEventListener("push", (event) => event.waitUntil(ping()));

// The page may hand the worker a push it received another way; it gets the same neutral notification.
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "push") event.waitUntil(ping());
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((open) => {
    const chat = open.find((c) => new URL(c.url).pathname === "/");
    return chat ? chat.focus() : self.clients.openWindow("/");
  }));
});

// The browser replaced the subscription (keys changed or it expired): tell the server the new one.
self.addEventListener("pushsubscriptionchange", (event) => {
  const options = event.oldSubscription ? event.oldSubscription.options : null;
  if (!options) return;
  event.waitUntil(self.registration.pushManager.subscribe(options).then((sub) =>
    fetch("/api/push/subscribe", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(sub.toJSON()),
    })));
});

// The tablet's service worker (scope /portal/), served by agent_portal.views.service_worker, which puts
// VERSION, ASSETS (the versioned modules and styles of the new-dossier page) and SHELL (its URL) above.
//
// Modules and styles: from the cache first (their URLs change with every deploy). The page itself:
// from the network first, kept for when there is none, so /portal/new reloads offline with its draft
// (the draft is in localStorage and IndexedDB, not here). A redirect to the sign-in page drops it.
/* global VERSION, ASSETS, SHELL */
const CACHE = "portal-" + VERSION;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS);
    for (const url of SHELL) {
      try {
        const response = await fetch(url, { credentials: "same-origin", redirect: "manual" });
        if (response.ok && response.type === "basic") await cache.put(url, response);
      } catch (e) { /* kept on the next visit */ }
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("portal-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function fromCacheFirst(request) {
  const cached = await caches.match(request, { cacheName: CACHE, ignoreVary: true });
  return cached || fetch(request);
}

async function shell(request, path) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected) await cache.put(path, response.clone());
    else if (response.type === "opaqueredirect" || response.redirected) await cache.delete(path); // signed out
    return response;
  } catch (e) {
    const cached = await cache.match(path, { ignoreVary: true });
    return cached || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (ASSETS.includes(url.pathname + url.search)) {
    event.respondWith(fromCacheFirst(request));
  } else if (request.mode === "navigate" && SHELL.includes(url.pathname)) {
    event.respondWith(shell(request, url.pathname));
  }
});

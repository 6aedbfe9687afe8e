// Drafts and small state kept on the tablet (localStorage / sessionStorage), and ids for them.

export function readJson(key, store) {
  try { return JSON.parse((store || localStorage).getItem(key)); } catch (e) { return null; }
}

export function writeJson(key, value, store) {
  try { (store || localStorage).setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
}

export function removeKey(key, store) {
  try { (store || localStorage).removeItem(key); } catch (e) { /* nothing kept */ }
}

// A version-4 UUID; crypto.randomUUID needs HTTPS, getRandomValues does not.
export function uuid(cryptoImpl) {
  const c = cryptoImpl || globalThis.crypto;
  if (c.randomUUID) return c.randomUUID();
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
}

// DOM helpers shared by the tablet pages. Text from the server or the user is always set with textContent.

export const $ = (id) => document.getElementById(id);

// A page's configuration or strings: a <script type="application/json"> data block (allowed by a CSP
// with script-src 'self', unlike an inline script).
export function readData(id) {
  const node = $(id);
  return node ? JSON.parse(node.textContent) : {};
}

export function csrfToken() {
  return (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
}

// el("li", {className: "x", text: "…", onclick: fn, "aria-label": "…"}, [child, "text", null])
export function el(tag, attrs, children) {
  const node = document.createElement(tag);
  Object.keys(attrs || {}).forEach((k) => {
    const value = attrs[k];
    if (k === "text") node.textContent = value;
    else if (k === "className") node.className = value;
    else if (k.startsWith("on") && typeof value === "function") node.addEventListener(k.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(k, value);
  });
  (children || []).forEach((c) => c && node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
  return node;
}

// The VietQR code: server-made SVG (segno), parsed by the HTML parser (which runs no script); only its
// <svg> drawing, with allowed elements and attributes, is imported into the page.

// NAPAS bank identification numbers (BIN) of the banks a VietQR account is most often at.
export const BANKS = { "970436": "Vietcombank", "970415": "VietinBank", "970418": "BIDV", "970405": "Agribank",
  "970422": "MB Bank", "970407": "Techcombank", "970416": "ACB", "970432": "VPBank", "970423": "TPBank",
  "970403": "Sacombank" };
// What of the QR code's SVG is kept: segno draws with these and nothing else.
const SVG_TAGS = new Set(["svg", "g", "path", "rect", "title", "desc"]);
const SVG_ATTRS = new Set(["width", "height", "viewbox", "class", "transform", "fill", "stroke", "stroke-width",
  "d", "x", "y", "shape-rendering", "xmlns"]);

export function importSvg(markup) {
  const parsed = new DOMParser().parseFromString(String(markup || ""), "text/html");
  const svg = parsed.body.querySelector("svg");
  if (!svg) return null;
  Array.from(svg.querySelectorAll("*")).forEach((node) => {
    if (!SVG_TAGS.has(node.localName)) node.remove();
  });
  [svg].concat(Array.from(svg.querySelectorAll("*"))).forEach((node) => {
    Array.from(node.attributes).forEach((a) => { if (!SVG_ATTRS.has(a.name.toLowerCase())) node.removeAttribute(a.name); });
  });
  const width = parseFloat(svg.getAttribute("width"));
  const height = parseFloat(svg.getAttribute("height"));
  if (!svg.hasAttribute("viewBox") && width > 0 && height > 0) svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "VietQR");
  return document.importNode(svg, true);
}

// node --test agent_portal/static/tests/ (run by tests/agent_portal/test_js_units.py)
import assert from "node:assert/strict";
import { test } from "node:test";

import { decide, sniff, sniffBlob } from "../js/lib/filetype.js";

const bytes = (...parts) => new Uint8Array(parts.flatMap((p) => (typeof p === "string" ? Array.from(p, (c) => c.charCodeAt(0)) : p)));
const ACCEPTED = ["application/pdf", "image/heic", "image/heif", "image/jpeg", "image/png", "image/webp"];

test("photos and PDFs are known by their first bytes", () => {
  assert.equal(sniff(bytes([0xff, 0xd8, 0xff, 0xe0], "JFIF")), "image/jpeg");
  assert.equal(sniff(bytes([0x89], "PNG", [0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])), "image/png");
  assert.equal(sniff(bytes("RIFF", [0x24, 0, 0, 0], "WEBPVP8 ")), "image/webp");
  assert.equal(sniff(bytes("%PDF-1.7\n")), "application/pdf");
  assert.equal(sniff(bytes([0, 0, 0, 0x18], "ftypheic", [0, 0, 0, 0])), "image/heic");
  assert.equal(sniff(bytes([0, 0, 0, 0x18], "ftypmif1", [0, 0, 0, 0])), "image/heif");
  assert.equal(sniff(bytes("GIF89a", [1, 0])), "image/gif");
});

test("a Windows program renamed .jpg is what it is", () => {
  assert.equal(sniff(bytes("MZ", [0x90, 0, 3, 0])), "application/x-msdownload");
  assert.equal(decide("application/x-msdownload", ACCEPTED), "refuse");
});

test("unknown, empty and short files are refused", () => {
  assert.equal(sniff(bytes("hello world")), null);
  assert.equal(sniff(new Uint8Array(0)), null);
  assert.equal(sniff(bytes([0xff, 0xd8])), null); // too short to be a JPEG
  assert.equal(decide(null, ACCEPTED), "refuse");
});

test("what the server accepts is kept; GIF and BMP are redrawn as JPEG", () => {
  assert.equal(decide("image/png", ACCEPTED), "keep");
  assert.equal(decide("application/pdf", ACCEPTED), "keep");
  assert.equal(decide("image/gif", ACCEPTED), "convert");
  assert.equal(decide("image/bmp", ACCEPTED), "convert");
  assert.equal(decide("image/avif", ACCEPTED), "refuse");
});

test("a Blob is read from its first bytes only", async () => {
  const blob = new Blob([bytes("%PDF-1.4\n"), new Uint8Array(100000)]);
  assert.equal(await sniffBlob(blob), "application/pdf");
});

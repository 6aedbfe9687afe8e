import assert from "node:assert/strict";
import { test } from "node:test";

import { bytes, digits, fold, formatters, mask, roundEven, safeUrl } from "../js/lib/format.js";
import { fill, pageLanguage, translator } from "../js/lib/i18n.js";
import { uuid } from "../js/lib/storage.js";
import { problemText } from "../js/lib/http.js";

test("search text folds Vietnamese accents and đ", () => {
  assert.equal(fold("Đăng ký khai sinh"), "dang ky khai sinh");
  assert.equal(fold("LÝ LỊCH TƯ PHÁP"), "ly lich tu phap");
  assert.equal(fold(null), "");
});

test("rounding half to even, as Python's round()", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, 7].map(roundEven), [0, 2, 2, 4, 2, 3, 7]);
});

test("masked identifiers keep three digits at each end", () => {
  assert.equal(mask("001090012345"), "001******345");
  assert.equal(mask("0912345678"), "091****678");
  assert.equal(mask("12345"), "12345");
  assert.equal(mask(""), "—");
  assert.equal(digits(" 0912 345 678 "), "0912345678");
});

test("sizes and money in the page's locale", () => {
  const vi = formatters("vi-VN");
  assert.equal(bytes(1572864, vi), "1,5 MB");
  assert.equal(bytes(100, vi), "1 KB");
  assert.equal(bytes(20480, formatters("en-US")), "20 KB");
  assert.match(vi.money.format(200000), /^200\.000\s₫$/);
});

test("only http(s) and same-site links are followed", () => {
  assert.equal(safeUrl("https://bank.example/3ds"), "https://bank.example/3ds");
  assert.equal(safeUrl("/portal/dossiers/X/pay"), "/portal/dossiers/X/pay");
  assert.equal(safeUrl("//evil.example"), null);
  assert.equal(safeUrl("javascript:alert(1)"), null);
  assert.equal(safeUrl(null), null);
});

test("strings: placeholders filled, missing keys shown as keys, language from the config", () => {
  const t = translator({ sent: "Đã gửi: {number}" });
  assert.equal(t("sent", { number: "HN-1" }), "Đã gửi: HN-1");
  assert.equal(t("missing"), "missing");
  assert.equal(fill("{n} of {n}", { n: 2 }), "2 of 2");
  assert.deepEqual(pageLanguage({ lang: "en" }), { lang: "en", locale: "en-US" });
  assert.deepEqual(pageLanguage({ lang: "fr" }), { lang: "vi", locale: "vi-VN" });
});

test("problem details in the page's language", () => {
  const problem = { title: "Invalid", detail_vi: "Sai", detail_en: "Wrong" };
  assert.equal(problemText(problem, 422, "vi"), "Sai");
  assert.equal(problemText(problem, 422, "en"), "Wrong");
  assert.equal(problemText({ title: "Gone" }, 410, "vi"), "Gone");
  assert.equal(problemText(null, 502, "vi"), "HTTP 502");
});

test("version-4 UUIDs, also without crypto.randomUUID", () => {
  const fake = { getRandomValues: (b) => b.fill(0xab) };
  assert.match(uuid(fake), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(uuid(), uuid());
});

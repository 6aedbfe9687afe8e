import assert from "node:assert/strict";
import { test } from "node:test";

import { cccdError, emailError, phoneError } from "../js/lib/validate.js";

test("Vietnamese mobile numbers in every usual spelling", () => {
  for (const ok of ["0912345678", "091 234 5678", "+84912345678", "84912345678", "0084912345678", "0386.123.456"]) {
    assert.equal(phoneError(ok), "", ok);
  }
});

test("a fixed line cannot get SMS; other numbers are invalid", () => {
  assert.equal(phoneError("02438123456"), "phone_mobile");
  assert.equal(phoneError("0123"), "phone_invalid");
  assert.equal(phoneError("09123abc78"), "phone_invalid");
  assert.equal(phoneError(""), "required");
  assert.equal(phoneError(null), "required");
});

test("CCCD: twelve digits starting with a province code", () => {
  const provinces = new Set(["001", "079"]);
  assert.equal(cccdError("001090012345", provinces), "");
  assert.equal(cccdError("001 090 012 345", provinces), "");
  assert.equal(cccdError("00109001", provinces), "cccd_digits");
  assert.equal(cccdError("999090012345", provinces), "cccd_province");
  assert.equal(cccdError("", provinces), "required");
});

test("email is optional but must look like one", () => {
  assert.equal(emailError(""), "");
  assert.equal(emailError("mai@example.vn"), "");
  assert.equal(emailError("not-an-email"), "email_invalid");
  assert.equal(emailError("a b@c.d"), "email_invalid");
});

// The server's rules for the citizen's fields, checked on the tablet first. Pure: each returns the key
// of the message to show ("" when the value is fine).

// libphonenumber's Vietnamese mobile numbers (national number, without the leading 0), as the server checks.
const VN_MOBILE = /^(?:121[0-3]\d{5}|(?:1[46]0|(?:3\d|7[06-9])\d|5(?:[1689]\d|2[238]|59)|8(?:[1-8]\d|9[6-9])|9(?:[0-8]\d|9[013-9]))\d{6})$/;
const VN_FIXED = /^2\d{9}$/;

export function phoneError(raw) {
  let v = String(raw || "").replace(/[\s.\-()]/g, "");
  if (!v) return "required";
  if (v.startsWith("+84")) v = v.slice(3);
  else if (v.startsWith("0084")) v = v.slice(4);
  else if (v.startsWith("84") && v.length === 11) v = v.slice(2);
  else if (v.startsWith("0")) v = v.slice(1);
  if (!/^\d+$/.test(v)) return "phone_invalid";
  if (VN_MOBILE.test(v)) return "";
  return VN_FIXED.test(v) ? "phone_mobile" : "phone_invalid";
}

// provinces: a Set of the three-digit province codes a CCCD number may start with.
export function cccdError(raw, provinces) {
  const v = String(raw || "").replace(/\s+/g, "");
  if (!v) return "required";
  if (!/^\d{12}$/.test(v)) return "cccd_digits";
  return provinces.has(v.slice(0, 3)) ? "" : "cccd_province";
}

export function emailError(raw) {
  const v = String(raw || "").trim();
  return !v || /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v) ? "" : "email_invalid";
}

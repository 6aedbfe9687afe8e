// Formatting and text folding shared by the tablet pages. Pure: no DOM, so node --test runs them.

export function formatters(locale) {
  return {
    money: new Intl.NumberFormat(locale, { style: "currency", currency: "VND" }),
    dec1: new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }),
    dec5: new Intl.NumberFormat(locale, { maximumFractionDigits: 5 }),
    whole: new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }),
    deadline: new Intl.DateTimeFormat(locale, { timeZone: "Asia/Ho_Chi_Minh", weekday: "long", day: "numeric",
      month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" }),
    when: new Intl.DateTimeFormat(locale, { timeZone: "Asia/Ho_Chi_Minh", day: "numeric", month: "numeric",
      year: "numeric", hour: "2-digit", minute: "2-digit" }),
  };
}

// "1,5 MB" or "12 KB" (never "0 KB").
export function bytes(n, fmt) {
  return n >= 1048576 ? fmt.dec1.format(n / 1048576) + " MB" : fmt.whole.format(Math.max(1, n / 1024)) + " KB";
}

// Python's round() (half to even), so minutes match the server's explanation.
export function roundEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// Diacritic-insensitive search text: "Đăng ký" → "dang ky".
export function fold(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
}

export const digits = (v) => String(v || "").replace(/\s+/g, "");

// "001090012345" → "001******345"; short values are shown as they are, nothing as "—".
export const mask = (v) => (v && v.length > 6 ? v.slice(0, 3) + "*".repeat(v.length - 6) + v.slice(-3) : v || "—");

// A link the page may follow: http(s) or a same-site path, never javascript: or //elsewhere.
export function safeUrl(url) {
  const text = String(url || "");
  return /^https?:\/\//i.test(text) || /^\/(?!\/)/.test(text) ? text : null;
}

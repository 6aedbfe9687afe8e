// Page strings come from the server (Flask-Babel) as a JSON block; "{name}" placeholders are filled here.

export function fill(text, vars) {
  let out = String(text);
  if (vars) Object.keys(vars).forEach((k) => { out = out.split("{" + k + "}").join(String(vars[k])); });
  return out;
}

// t(key, vars): the string for key (the key itself when it is missing), placeholders filled.
export function translator(strings) {
  return (key, vars) => fill(strings[key] === undefined ? key : strings[key], vars);
}

export function pageLanguage(config) {
  const lang = config.lang === "en" ? "en" : "vi";
  return { lang: lang, locale: lang === "vi" ? "vi-VN" : "en-US" };
}

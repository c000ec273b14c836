// Characters as both pages show and check them: one label for each character (the end
// mark, spaces and other invisible ones spelled out), its U+ code, how a screen reader
// says it, and the one rule for people's text.
//
// The rule is transcribed from tinygpt.data.hidden_character (a browser test holds the
// two to the same answer for every character): no control characters, no lone
// surrogates, no invisible format characters except the zero-width non-joiner and joiner
// that Persian names and emoji sequences need.
const HIDDEN = /(?![\u200c\u200d])[\p{Cc}\p{Cs}\p{Cf}]/u;

export const END_MARK = "↵"; // BOS, the start and end mark; Python gives it as ""
export const SPACE_MARK = "␣";

// The first character of `text` that people's text must not hold, or null.
export function hiddenCharacter(text) {
  const match = HIDDEN.exec(text);
  return match ? match[0] : null;
}

// "U+202E": a character by its code point, for the ones that cannot be shown.
export function codePoint(ch) {
  return `U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}

// A character as the figures show it: "↵ end", "␣ space", other white space as its code
// point, anything else as itself. `short`: the mark alone ("↵", "␣"), where a label must
// be one character wide (points on a map, heatmap headers).
export function letterLabel(ch, { short = false } = {}) {
  if (ch === "") return short ? END_MARK : `${END_MARK} end`;
  if (ch === " ") return short ? SPACE_MARK : `${SPACE_MARK} space`;
  if (/\s/.test(ch)) return codePoint(ch);
  return ch;
}

// The same, as a screen reader should say it.
export function spokenLetter(ch) {
  if (ch === "") return "end of the name";
  if (ch === " ") return "space";
  return letterLabel(ch);
}

// The one rule for people's text, transcribed from tinygpt.data.hidden_character (a
// browser test holds the two to the same answer for every character): no control
// characters, no lone surrogates, no invisible format characters except the zero-width
// non-joiner and joiner that Persian names and emoji sequences need.
const HIDDEN = /(?![\u200c\u200d])[\p{Cc}\p{Cs}\p{Cf}]/u;

// The first character of `text` that people's text must not hold, or null.
export function hiddenCharacter(text) {
  const match = HIDDEN.exec(text);
  return match ? match[0] : null;
}

export function describeCharacter(ch) {
  return `U+${ch.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
}

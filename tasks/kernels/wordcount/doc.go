// Package wordcount is the crunch kernel "wordcount": the number of words
// of a text, the number of distinct words, and the most frequent ones.
//
// # Params and result
//
// Params: text, a string (required; "" is allowed), and top, 1 to 1000
// (default 10). The text is bulk input, stored once with the job as its
// UTF-8 bytes and never echoed (the echoed params are {"top": N}). Result,
// in this order:
//
//	{"total": N, "unique": U, "top": [{"word": w, "count": c}, …]}
//
// top lists the min(top, unique) most frequent words by count descending,
// then by word ascending in code point order (which is the byte order of
// UTF-8).
//
// # Words
//
// A word is a maximal run of runes that are letters (Unicode category L,
// unicode.IsLetter) or decimal digits (Nd, unicode.IsDigit), lower-cased
// code point by code point with unicode.ToLower; every other rune
// separates words. So "Straße STRASSE straße" has the words "straße" (2)
// and "strasse" (1): no full case folding. Combining marks are category M,
// not L, so they split words: "e\u0301t\u00e9" (é written as e plus a
// combining acute, then é precomposed) is the two words "e" and "té". Emoji,
// punctuation, spaces and U+FFFD are separators. Text decoded from a JSON
// request is valid UTF-8; on arbitrary bytes, runes are decoded as Go's
// utf8.DecodeRune does, an invalid byte being U+FFFD, a separator.
//
// # Why the result does not depend on the chunking
//
// The input is the range of bytes [0, len(text)). A chunk owns the words
// whose first byte lies in its range [Lo, Hi), reading only what it needs:
//
//   - Every byte that is not a UTF-8 continuation byte (10xxxxxx) starts a
//     rune in the decoding of the whole text, because a multi-byte rune
//     holds continuation bytes only after its first byte. The chunk starts
//     at p, the first such byte at or after Lo: no word starts in [Lo, p),
//     since a word's first byte is the first byte of a valid rune.
//   - It decodes the rune that ends at p from the (at most 4) bytes before
//     p, as utf8.DecodeLastRune does, which agrees with the decoding of the
//     whole text. If that rune is a word rune, the word going on at p
//     started before Lo and belongs to an earlier chunk: it is skipped.
//   - It decodes forward from p, in step with the whole text, counts every
//     word that starts before Hi, and reads past Hi in blocks until its
//     last word ends. Words starting at or after Hi are left to later
//     chunks.
//
// So every word is counted exactly once, by the chunk containing its first
// byte, whole even when it spans chunk edges or a chunk edge falls inside
// a multi-byte rune. Inside a chunk the same rule splits the range further
// over the cores. Reduce adds the full word counts of every chunk (never a
// per-chunk top list), so the totals, and the top list taken from them,
// are the same for any chunking.
//
// # Partials
//
// Version byte 1; the number of distinct words as a uvarint; then for each
// word, in strictly increasing byte order, its length and bytes and its
// count (uvarints). Reduce checks every word (valid UTF-8, only lower-cased
// word runes, in order, count ≥ 1) and merges the sorted partials with a
// k-way merge, keeping only the top list in memory besides the partials.
package wordcount

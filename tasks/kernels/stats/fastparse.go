package stats

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"unsafe"
)

// fastInput is the fast path of Prepare for the common request, exactly
// {"values": [numbers]} with any JSON whitespace: it scans the bytes once and
// writes the input directly, about four times faster than decoding with
// encoding/json (whose reflection, validation pass and slice growth
// dominate for millions of numbers); parseNumber parses most numbers in
// the same single scan that delimits them. It accepts only what the strict
// tasks.Params path accepts, with the same values (both parse with
// strconv.ParseFloat), and reports false for anything else — other or
// repeated fields, escapes, bad numbers, values out of bounds, an empty
// array — so that the slow path can report the error precisely.
func fastInput(raw []byte) (input []byte, ok bool) {
	// A read-only view of raw, not a copy: nothing below writes to raw or
	// keeps a token past the call (strconv.ParseFloat copies the string it
	// puts into an error).
	s := unsafe.String(unsafe.SliceData(raw), len(raw))
	i := skipSpace(s, 0)
	if !hasAt(s, i, "{") {
		return nil, false
	}
	i = skipSpace(s, i+1)
	if !hasAt(s, i, `"values"`) {
		return nil, false
	}
	i = skipSpace(s, i+len(`"values"`))
	if !hasAt(s, i, ":") {
		return nil, false
	}
	i = skipSpace(s, i+1)
	if !hasAt(s, i, "[") {
		return nil, false
	}
	input = make([]byte, 0, valueSize*(bytes.Count(raw, []byte(","))+1))
	for {
		i++ // after '[' or ','
		if i < len(s) && s[i] <= ' ' {
			i = skipSpace(s, i)
		}
		x, end, ok := parseNumber(s, i)
		if !ok || !(math.Abs(x) <= MaxAbs) {
			return nil, false
		}
		input = binary.LittleEndian.AppendUint64(input, math.Float64bits(x))
		i = end
		if i < len(s) && s[i] <= ' ' {
			i = skipSpace(s, i)
		}
		if i < len(s) && s[i] == ']' {
			break
		}
		if i >= len(s) || s[i] != ',' {
			return nil, false
		}
	}
	i = skipSpace(s, i+1)
	if !hasAt(s, i, "}") || skipSpace(s, i+1) != len(s) {
		return nil, false
	}
	return input, true
}

func hasAt(s string, i int, tok string) bool {
	return len(s)-i >= len(tok) && s[i:i+len(tok)] == tok
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// pow10 are the powers of ten that float64 holds exactly, 10^0 to 10^22,
// padded to 32 entries so that an index masked with 31 needs no bounds
// check.
var pow10 = [32]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses the JSON number starting at i and returns its value
// correctly rounded to float64, as strconv.ParseFloat does, and its end; ok
// is false when there is no JSON number at i (RFC 8259 grammar, as
// numberEnd) or strconv.ParseFloat would fail.
//
// It reads the digits into an integer m and a decimal exponent e while
// checking the grammar. When m ≤ 2^53 and |e| ≤ 22, both m and 10^|e| are
// exact float64s, so one IEEE multiplication or division rounds the exact
// value m·10^e once, correctly (Clinger's fast path, which strconv also
// takes first). Other numbers (more than 19 significant digits, large
// exponents) go to strconv.ParseFloat.
func parseNumber(s string, i int) (x float64, end int, ok bool) {
	start := i
	neg := i < len(s) && s[i] == '-'
	if neg {
		i++
	}
	// m takes every digit of the integer and fraction parts; it is exact
	// (no overflow) while there are at most 19 of them.
	var m uint64
	j := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i]-'1' < 9:
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			m = m*10 + uint64(s[i]-'0')
		}
	default:
		return 0, start, false
	}
	nd := i - j // digits in m
	e := 0      // decimal exponent of m
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			m = m*10 + uint64(s[i]-'0')
		}
		if i == j {
			return 0, start, false
		}
		nd += i - j
		e = j - i
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		j := i
		x := 0
		for ; i < len(s) && s[i]-'0' <= 9; i++ {
			if x < 100_000 {
				x = x*10 + int(s[i]-'0')
			}
		}
		if i == j {
			return 0, start, false
		}
		if eneg {
			x = -x
		}
		e += x
	}
	if nd <= 19 && m <= 1<<53 && e >= -22 && e <= 22 {
		x = float64(m)
		if e >= 0 {
			x *= pow10[e&31]
		} else {
			x /= pow10[-e&31]
		}
		if neg {
			x = -x
		}
		return x, i, true
	}
	x, err := strconv.ParseFloat(s[start:i], 64)
	return x, i, err == nil
}

// numberEnd returns the end of the JSON number starting at i (RFC 8259:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), or i when there is none.
func numberEnd(s string, i int) int {
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return start
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return start
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return start
		}
		i = j
	}
	return i
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

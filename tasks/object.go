package tasks

import (
	"bytes"
	"encoding/json"
	"iter"
	"unicode/utf8"
)

// MaxObjectFields caps how many fields of one request object are read. No
// valid request comes near it (a create-job body has seven fields, the
// largest params object five); it is there so that a body of millions of
// fields costs a scan, not a map of millions of entries: decoding a 32 MiB
// body of unknown fields into a map took about 1 GB.
const MaxObjectFields = 128

// splitObject splits the JSON object raw into its fields, at most limit of
// them, without copying: every value is a subslice of raw, exactly the bytes
// json.Unmarshal would give a json.RawMessage, and a repeated name keeps its
// last value, as json.Unmarshal does. It reports how many fields the object
// has in all, and ok=false when raw is not one JSON object.
//
// encoding/json has no way to stop decoding an object part way, nor to hand
// out values without copying them, hence this scanner. It runs only on text
// that json.Valid accepted, so it only has to find where values end; its
// fuzz test holds it to json.Unmarshal.
func splitObject(raw []byte, limit int) (fields map[string]json.RawMessage, total int, ok bool) {
	if !json.Valid(raw) {
		return nil, 0, false
	}
	s := scanner{b: raw}
	s.space()
	if s.peek() != '{' {
		return nil, 0, false
	}
	s.i++
	fields = map[string]json.RawMessage{}
	s.space()
	if s.peek() == '}' {
		return fields, 0, true
	}
	for {
		s.space()
		start := s.i
		s.skipString()
		name := s.b[start:s.i]
		s.space()
		s.i++ // ':'
		s.space()
		start = s.i
		s.skipValue()
		if total++; total <= limit {
			fields[unquote(name)] = s.b[start:s.i:s.i]
		}
		s.space()
		if s.peek() != ',' {
			return fields, total, true // '}', since raw is valid
		}
		s.i++
	}
}

// elements yields the index and raw bytes of each element of raw, a JSON
// array that json.Valid accepted, without copying them.
func elements(raw []byte) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		s := scanner{b: raw}
		s.space()
		s.i++ // '['
		s.space()
		if s.peek() == ']' {
			return
		}
		for i := 0; ; i++ {
			s.space()
			start := s.i
			s.skipValue()
			if !yield(i, s.b[start:s.i:s.i]) {
				return
			}
			s.space()
			if s.peek() != ',' {
				return // ']'
			}
			s.i++
		}
	}
}

// unquote decodes a JSON string literal; most names need no unescaping.
func unquote(quoted []byte) string {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(quoted, &s) // valid: checked by json.Valid
	return s
}

// scanner walks JSON text already known to be valid.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// skipString moves past the string literal that starts at s.i.
func (s *scanner) skipString() {
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++ // the escaped byte; \uXXXX's hex digits are plain bytes
		case '"':
			s.i++
			return
		}
	}
}

// skipValue moves past the value that starts at s.i.
func (s *scanner) skipValue() {
	switch s.peek() {
	case '"':
		s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.skipString()
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return
			}
		}
	default: // a number, true, false or null
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			s.i++
		}
	}
}

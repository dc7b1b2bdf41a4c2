package stats

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
)

// fastInputRef is fastInput as it was before parseNumber: numberEnd, then
// strconv.ParseFloat on the token. It stays as the reference and the
// baseline of BenchmarkFastInput4M.
func fastInputRef(raw []byte) (input []byte, ok bool) {
	s := string(raw) // one copy; tokens below are substrings of it
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
		i = skipSpace(s, i+1) // after '[' or ','
		end := numberEnd(s, i)
		if end == i {
			return nil, false
		}
		x, err := strconv.ParseFloat(s[i:end], 64)
		if err != nil || !(math.Abs(x) <= MaxAbs) {
			return nil, false
		}
		input = binary.LittleEndian.AppendUint64(input, math.Float64bits(x))
		i = skipSpace(s, end)
		if hasAt(s, i, "]") {
			break
		}
		if !hasAt(s, i, ",") {
			return nil, false
		}
	}
	i = skipSpace(s, i+1)
	if !hasAt(s, i, "}") || skipSpace(s, i+1) != len(s) {
		return nil, false
	}
	return input, true
}

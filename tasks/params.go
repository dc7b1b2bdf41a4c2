package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/crunchjobs/crunch/crunchtype"
)

// FieldError is one invalid field of a request. Field is a dotted path such
// as "to" or "values[3]"; the API prefixes it with "params.".
type FieldError = crunchtype.FieldError

// ValidationError lists every invalid field of a request.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Field + ": " + fe.Message
	}
	return "invalid params: " + strings.Join(parts, "; ")
}

// maxIndexErrors caps how many bad elements of one array are reported.
const maxIndexErrors = 10

// maxIntLiteral caps the length of an integer literal, so that a hostile
// number such as 1e999999999 cannot make exact parsing expensive.
const maxIntLiteral = 64

// Params reads a kernel's params object strictly: every field a kernel does
// not read is reported as unknown, integers accept any JSON number with an
// integral value (1e9), and every problem is collected with its field path.
//
// A kernel's Prepare reads its fields with the typed getters, adds its own
// cross-field checks with Fail, and ends with Err.
type Params struct {
	fields map[string]json.RawMessage
	read   map[string]bool
	errs   []FieldError
}

// NewParams parses raw, which must be a JSON object of at most
// MaxObjectFields fields, null or empty. The values it reads are subslices
// of raw, never copies.
func NewParams(raw json.RawMessage) *Params {
	p := &Params{fields: map[string]json.RawMessage{}, read: map[string]bool{}}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return p
	}
	fields, total, ok := splitObject(raw, MaxObjectFields)
	switch {
	case !ok:
		p.Fail("", "must be a JSON object")
	case total > MaxObjectFields:
		p.Fail("", "must have at most %d fields; it has %d, and only the first %d were read", MaxObjectFields, total, MaxObjectFields)
		fallthrough
	default:
		p.fields = fields
	}
	return p
}

// Has reports whether the field is present (and not null).
func (p *Params) Has(name string) bool {
	v, ok := p.fields[name]
	return ok && !bytes.Equal(v, []byte("null"))
}

// Fail records an error for a field.
func (p *Params) Fail(field, format string, args ...any) {
	p.errs = append(p.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Failed reports whether any error was recorded for field.
func (p *Params) Failed(field string) bool {
	return slices.ContainsFunc(p.errs, func(e FieldError) bool { return e.Field == field })
}

// Err reports unknown fields and returns every error as a *ValidationError,
// or nil when the params are valid.
func (p *Params) Err() error {
	var unknown []string
	for name := range p.fields {
		if !p.read[name] {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		p.Fail(name, "unknown field")
	}
	if len(p.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: p.errs}
}

func (p *Params) take(name string) (json.RawMessage, bool) {
	p.read[name] = true
	if !p.Has(name) {
		return nil, false
	}
	return p.fields[name], true
}

// Int reads an integer in [lo, hi]; def when absent.
func (p *Params) Int(name string, def, lo, hi int64) int64 {
	raw, ok := p.take(name)
	if !ok {
		return def
	}
	v, msg := parseInt(raw, lo, hi)
	if msg != "" {
		p.Fail(name, "%s", msg)
		return def
	}
	return v
}

// RequiredInt reads an integer in [lo, hi] that must be present.
func (p *Params) RequiredInt(name string, lo, hi int64) int64 {
	if !p.Has(name) {
		p.read[name] = true
		p.Fail(name, "is required")
		return lo
	}
	return p.Int(name, lo, lo, hi)
}

func parseInt(raw json.RawMessage, lo, hi int64) (int64, string) {
	rangeMsg := fmt.Sprintf("must be an integer from %d to %d", lo, hi)
	s := string(raw)
	if !isNumber(s) {
		return 0, rangeMsg
	}
	if hugeExponent(s) {
		return 0, rangeMsg // 1e-999999 parses to 0 but would make big.Rat work for it
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return 0, rangeMsg
	}
	if math.IsInf(f, 0) || f < float64(lo)-1 || f > float64(hi)+1 || len(s) > maxIntLiteral {
		return 0, rangeMsg
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, rangeMsg
	}
	v := r.Num().Int64()
	if v < lo || v > hi {
		return 0, rangeMsg
	}
	return v, ""
}

// hugeExponent reports whether a number literal has an exponent beyond
// ±40, which no integer parameter can use.
func hugeExponent(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return false
	}
	exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
	return err != nil || exp > 40 || exp < -40
}

func isNumber(s string) bool {
	return s != "" && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))
}

// Float reads a finite number with |x| <= maxAbs; def when absent.
func (p *Params) Float(name string, def, maxAbs float64) float64 {
	raw, ok := p.take(name)
	if !ok {
		return def
	}
	v, ok := parseFloat(raw, maxAbs)
	if !ok {
		p.Fail(name, "must be a finite number with absolute value at most %g", maxAbs)
		return def
	}
	return v
}

func parseFloat(raw json.RawMessage, maxAbs float64) (float64, bool) {
	s := string(bytes.TrimSpace(raw))
	if !isNumber(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > maxAbs {
		return 0, false
	}
	return f, true
}

// Raw reads a field as raw JSON; nil and false when absent.
func (p *Params) Raw(name string) (json.RawMessage, bool) {
	return p.take(name)
}

// String reads a string; "" and false when absent.
func (p *Params) String(name string) (string, bool) {
	raw, ok := p.take(name)
	if !ok {
		return "", false
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		p.Fail(name, "must be a string")
		return "", false
	}
	return s, true
}

// Floats reads a non-empty array of finite numbers with |x| <= maxAbs; nil
// when absent or invalid.
func (p *Params) Floats(name string, maxAbs float64) []float64 {
	raw, ok := p.take(name)
	if !ok {
		return nil
	}
	v, ok := p.floats(name, raw, maxAbs)
	if ok && len(v) == 0 {
		p.Fail(name, "must have at least one value")
		return nil
	}
	return v
}

// floats decodes an array of numbers, naming the first bad elements. It
// walks the array in place, so an invalid array of millions of elements
// costs a scan, not millions of decoded values and errors.
func (p *Params) floats(field string, raw json.RawMessage, maxAbs float64) ([]float64, bool) {
	if raw[0] != '[' {
		p.Fail(field, "must be an array of numbers")
		return nil, false
	}
	var v []float64
	bad := 0
	for i, e := range elements(raw) {
		x, ok := parseFloat(e, maxAbs)
		if !ok {
			p.Fail(fmt.Sprintf("%s[%d]", field, i), "must be a finite number with absolute value at most %g", maxAbs)
			if bad++; bad == maxIndexErrors {
				break
			}
			continue
		}
		if bad == 0 {
			v = append(v, x)
		}
	}
	if bad > 0 {
		return nil, false
	}
	return v, true
}

// Matrix reads a non-empty rectangular array of rows of finite numbers with
// |x| <= maxAbs, at most maxRows by maxCols; nil when absent or invalid.
func (p *Params) Matrix(name string, maxAbs float64, maxRows, maxCols int) [][]float64 {
	raw, ok := p.take(name)
	if !ok {
		return nil
	}
	shapeMsg := fmt.Sprintf("must be a non-empty array of at most %d rows, each a non-empty array of at most %d numbers, all rows of one length", maxRows, maxCols)
	rows := 0
	if raw[0] == '[' {
		for range elements(raw) {
			rows++
		}
	}
	if rows == 0 || rows > maxRows {
		p.Fail(name, "%s", shapeMsg)
		return nil
	}
	m := make([][]float64, rows)
	valid := true
	for i, row := range elements(raw) {
		field := fmt.Sprintf("%s[%d]", name, i)
		r, ok := p.floats(field, row, maxAbs)
		switch {
		case !ok:
			valid = false
		case len(r) == 0 || len(r) > maxCols || len(r) != len(m[0]) && i > 0:
			p.Fail(field, "%s", shapeMsg)
			valid = false
		}
		m[i] = r
		if !valid && len(p.errs) >= maxIndexErrors {
			break
		}
	}
	if !valid {
		return nil
	}
	return m
}

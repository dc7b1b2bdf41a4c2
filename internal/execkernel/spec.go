package execkernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/crunchjobs/crunch/tasks"
)

// Bounds on what Prepare reads.
const (
	// maxFieldErrors caps the errors reported for one params object.
	maxFieldErrors = 20
	// maxNumberLiteral and maxExponent bound a number in params, so that a
	// hostile literal (1e999999, a million digits) cannot make the exact
	// arithmetic of validation or of rewriting integers expensive.
	maxNumberLiteral = 400
	maxExponent      = 400
)

// printer renders the validator's messages.
var printer = message.NewPrinter(language.English)

// Spec is the tasks.Spec of an exec kernel.
type Spec struct{ k *kernel }

var _ tasks.Spec = (*Spec)(nil)

// Name is the kernel's name.
func (s *Spec) Name() string { return s.k.name }

// Description is the entry's description.
func (s *Spec) Description() string { return s.k.description }

// ParamsSchema is the entry's params_schema.
func (s *Spec) ParamsSchema() json.RawMessage { return s.k.schemaJSON }

// ArtifactType is the entry's artifact_type.
func (s *Spec) ArtifactType() string { return s.k.artifactType }

// Prepare validates params against the kernel's schema and returns them
// with the defaults of absent top-level properties filled in and every
// integral number written as a JSON integer. The extent is unknown: the
// worker runs the plan step.
func (s *Spec) Prepare(params json.RawMessage) (*tasks.Prepared, error) {
	p, err := s.k.prepare(params)
	if err != nil {
		return nil, err
	}
	return &tasks.Prepared{Params: p, Extent: tasks.ExtentUnknown, DefaultChunks: 0}, nil
}

func fieldErr(field, format string, args ...any) error {
	return &tasks.ValidationError{Errors: []tasks.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

func (k *kernel) prepare(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		raw = []byte("{}")
	}
	if int64(len(raw)) > k.maxParamsBytes {
		return nil, fieldErr("", "must be at most %d bytes as JSON for kernel %s; pass bulk data by reference", k.maxParamsBytes, k.name)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fieldErr("", "must be a JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fieldErr("", "must be a JSON object")
	}
	var errs []tasks.FieldError
	checkNumbers(v, nil, &errs)
	if len(errs) > 0 {
		return nil, &tasks.ValidationError{Errors: errs}
	}
	if err := k.schema.Validate(v); err != nil {
		var verr *jsonschema.ValidationError
		if !errors.As(err, &verr) {
			return nil, fieldErr("", "%v", err)
		}
		return nil, &tasks.ValidationError{Errors: fieldErrors(verr, v)}
	}
	for name, def := range k.defaults {
		if _, ok := obj[name]; !ok {
			obj[name] = def
		}
	}
	return marshalValue(obj)
}

// checkNumbers reports the numbers of v too long or of too large an
// exponent to handle exactly, at their paths.
func checkNumbers(v any, path []string, errs *[]tasks.FieldError) {
	if len(*errs) >= maxFieldErrors {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		for _, name := range slices.Sorted(mapsKeys(v)) {
			checkNumbers(v[name], append(path, "."+name), errs)
		}
	case []any:
		for i, e := range v {
			checkNumbers(e, append(path, "["+strconv.Itoa(i)+"]"), errs)
		}
	case json.Number:
		if !numberOK(string(v)) {
			*errs = append(*errs, tasks.FieldError{Field: joinPath(path),
				Message: fmt.Sprintf("must be a number of at most %d characters with an exponent from -%d to %d", maxNumberLiteral, maxExponent, maxExponent)})
		}
	}
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func numberOK(s string) bool {
	if len(s) > maxNumberLiteral {
		return false
	}
	i := strings.IndexAny(s, "eE")
	if i < 0 {
		return true
	}
	exp, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
	return err == nil && exp >= -maxExponent && exp <= maxExponent
}

// joinPath joins path tokens (".name", "[3]") into a field relative to
// params: "points[3].x".
func joinPath(tokens []string) string {
	return strings.TrimPrefix(strings.Join(tokens, ""), ".")
}

// fieldErrors turns a validation error tree into field errors, one per
// leaf, at the instance location written as a field path: an unknown
// property and a missing required one are named themselves.
func fieldErrors(root *jsonschema.ValidationError, instance any) []tasks.FieldError {
	var out []tasks.FieldError
	seen := map[tasks.FieldError]bool{}
	add := func(fe tasks.FieldError) {
		if !seen[fe] && len(out) < maxFieldErrors {
			seen[fe] = true
			out = append(out, fe)
		}
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		at := pathOf(e.InstanceLocation, instance)
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			for _, p := range k.Properties {
				add(tasks.FieldError{Field: joinPath(append(at, "."+p)), Message: "unknown field"})
			}
		case *kind.Required:
			for _, p := range k.Missing {
				add(tasks.FieldError{Field: joinPath(append(at, "."+p)), Message: "is required"})
			}
		default:
			add(tasks.FieldError{Field: joinPath(at), Message: e.ErrorKind.LocalizedString(printer)})
		}
	}
	walk(root)
	// The validator walks objects in map order: sort, so that one request
	// always gets the same answer.
	slices.SortStableFunc(out, func(a, b tasks.FieldError) int { return strings.Compare(a.Field, b.Field) })
	if len(out) == 0 { // not expected: an error tree always has a leaf
		out = append(out, tasks.FieldError{Field: "", Message: root.Error()})
	}
	return out
}

// pathOf writes a JSON pointer's tokens as field path tokens, telling
// array indexes from property names by the instance they walk through.
func pathOf(tokens []string, instance any) []string {
	path := make([]string, 0, len(tokens))
	v := instance
	for _, tok := range tokens {
		switch cur := v.(type) {
		case []any:
			path = append(path, "["+tok+"]")
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(cur) {
				v = cur[i]
			} else {
				v = nil
			}
		case map[string]any:
			path = append(path, "."+tok)
			v = cur[tok]
		default:
			path = append(path, "."+tok)
			v = nil
		}
	}
	return path
}

// marshalValue encodes a value decoded with json.Number (or a default,
// already raw JSON) compactly, sorting object keys, without HTML escaping,
// and writing every integral number as a JSON integer (1e9 as 1000000000,
// 2.0 as 2).
func marshalValue(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := writeValue(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeValue(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case json.Number:
		buf.WriteString(normalizeNumber(string(v)))
	case json.RawMessage: // a default, normalized already
		buf.Write(v)
	case string:
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	case []any:
		buf.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeValue(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		buf.WriteByte('{')
		for i, name := range slices.Sorted(mapsKeys(v)) {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeValue(buf, name); err != nil {
				return err
			}
			buf.WriteByte(':')
			if err := writeValue(buf, v[name]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return fmt.Errorf("unexpected JSON value of type %T", v)
	}
	return nil
}

// normalizeNumber writes an integral number literal as an integer; others
// are left as written. The literal is bounded by checkNumbers (or is an
// operator's default).
func normalizeNumber(s string) string {
	if !strings.ContainsAny(s, ".eE") || !numberOK(s) {
		return s
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok || !r.IsInt() {
		return s
	}
	return r.Num().String()
}

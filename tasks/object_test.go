package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitObject(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, raw string
		want      map[string]string // nil: not an object
		total     int
	}{
		{"empty", `{}`, map[string]string{}, 0},
		{"spaces", " \t\n{ \"a\" :\r 1 , \"b\":[1, {\"c\":\"]}\"}] }\n", map[string]string{"a": "1", "b": `[1, {"c":"]}"}]`}, 2},
		{"every kind of value", `{"s":"x\"}","n":-1.5e3,"t":true,"f":false,"z":null,"o":{},"a":[]}`,
			map[string]string{"s": `"x\"}"`, "n": "-1.5e3", "t": "true", "f": "false", "z": "null", "o": "{}", "a": "[]"}, 7},
		{"escaped names", `{"\u0061\\":1,"\"":2}`, map[string]string{`a\`: "1", `"`: "2"}, 2},
		{"repeated name keeps the last", `{"a":1,"a":2}`, map[string]string{"a": "2"}, 2},
		{"backslash before a quote in a value", `{"a":"\\","b":"\\\""}`, map[string]string{"a": `"\\"`, "b": `"\\\""`}, 2},
		{"array", `[1]`, nil, 0},
		{"string", `"{}"`, nil, 0},
		{"truncated", `{"a":1`, nil, 0},
		{"trailing data", `{"a":1}x`, nil, 0},
		{"two objects", `{}{}`, nil, 0},
		{"nothing", ``, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fields, total, ok := splitObject([]byte(tt.raw), MaxObjectFields)
			require.Equal(t, tt.want != nil, ok)
			require.Equal(t, tt.total, total)
			if tt.want == nil {
				return
			}
			got := map[string]string{}
			for k, v := range fields {
				got[k] = string(v)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSplitObjectStopsAtTheLimit(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("{")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"f%d":[%d]`, i, i)
	}
	b.WriteString("}")
	fields, total, ok := splitObject([]byte(b.String()), 10)
	require.True(t, ok)
	require.Equal(t, 1000, total)
	require.Len(t, fields, 10)
	require.Equal(t, "[9]", string(fields["f9"]))
}

func TestParamsRefusesTooManyFields(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"to":1`)
	for i := range 500 {
		fmt.Fprintf(&b, `,"f%d":0`, i)
	}
	b.WriteString("}")
	p := NewParams(json.RawMessage(b.String()))
	require.Equal(t, int64(1), p.Int("to", 0, 0, 10), "the first fields are still read")
	var verr *ValidationError
	require.ErrorAs(t, p.Err(), &verr)
	require.Equal(t, FieldError{Field: "", Message: "must have at most 128 fields; it has 501, and only the first 128 were read"}, verr.Errors[0])
	require.Len(t, verr.Errors, 1+127, "the overflow, then each unknown field read")
}

// FuzzSplitObject holds splitObject to json.Unmarshal: the same verdict and,
// for an object, the same fields with the same raw values.
func FuzzSplitObject(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"a":1}`, ` {"a" : [1,{"b":"}"}] , "c":"\\\"" } `, `{"\u00e9":null,"\ud800":true}`,
		`{"a":1,"a":{"a":2}}`, `[]`, `"x"`, `{"a":}`, `{"a":1}}`, "{\"\xff\":1}", `{"a":"\u0022"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fields, total, ok := splitObject(raw, MaxObjectFields)
		var want map[string]json.RawMessage
		err := json.Unmarshal(raw, &want)
		wantOK := err == nil && want != nil // json.Unmarshal accepts null into a map
		if !wantOK {
			require.False(t, ok, "splitObject accepted %q; json.Unmarshal: %v", raw, err)
			return
		}
		require.True(t, ok, "splitObject refused %q", raw)
		if total > MaxObjectFields {
			require.LessOrEqual(t, len(fields), MaxObjectFields) // fewer when names repeat
			return
		}
		require.Equal(t, len(want), len(fields), "%q", raw)
		for k, v := range want {
			require.Equal(t, string(v), string(fields[k]), "field %q of %q", k, raw)
		}
	})
}

// FuzzElements holds elements to json.Unmarshal: for any valid JSON array,
// the same elements with the same raw bytes.
func FuzzElements(f *testing.F) {
	for _, seed := range []string{`[]`, ` [ 1 , "a,]" , [2,[3]] , {"b":[]} , null ] `, `["\\\"", "\u005d"]`, `[1]x`, `{}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want []json.RawMessage
		if json.Unmarshal(raw, &want) != nil || want == nil {
			return // elements is only ever given valid arrays
		}
		var got []string
		for i, e := range elements(bytes.TrimSpace(raw)) {
			require.Equal(t, len(got), i)
			got = append(got, string(e))
		}
		require.Len(t, got, len(want), "%q", raw)
		for i := range want {
			require.Equal(t, string(want[i]), got[i], "element %d of %q", i, raw)
		}
	})
}

package openapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/crunchjobs/crunch/internal/openapi"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestLoad(t *testing.T) {
	t.Parallel()

	doc, err := openapi.Load()
	require.NoError(t, err)
	require.Equal(t, "3.1.0", doc.OpenAPI)
	require.True(t, doc.IsOpenAPI31OrLater())
	require.Equal(t, "0.1.0", doc.Info.Version)
	require.NoError(t, doc.Validate(t.Context()), "Load returns a document that validates")

	// Validate checks "example"s and media-type examples; make sure it does
	// check them against the if/then rules of Job, so that the examples the
	// document shows are examples of valid responses.
	broken := bytes.Replace(openapi.JSON(), []byte(`"status": "queued",`), []byte(`"status": "bogus",`), 1)
	require.NotEqual(t, openapi.JSON(), broken)
	loader := openapi3.NewLoader()
	brokenDoc, err := loader.LoadFromData(broken)
	require.NoError(t, err)
	require.Error(t, brokenDoc.Validate(loader.Context), "an invalid example must fail validation")
}

func TestJSON(t *testing.T) {
	t.Parallel()

	data := openapi.JSON()
	require.True(t, json.Valid(data))
	var top map[string]any
	require.NoError(t, json.Unmarshal(data, &top))
	require.Equal(t, "3.1.0", top["openapi"])

	// The caller owns the slice: changing it does not change the document.
	data[0] = 'x'
	require.Equal(t, byte('{'), openapi.JSON()[0])
}

// TestSchemaExamples checks the "examples" arrays of every schema, which
// kin-openapi's Validate does not check (it checks only "example").
func TestSchemaExamples(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)

	checked := 0
	var visit func(path string, ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool)
	visit = func(path string, ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		seen[ref.Value] = true
		s := ref.Value
		for i, example := range s.Examples {
			err := s.VisitJSON(normalize(t, example), openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
			require.NoError(t, err, "%s: examples[%d]", path, i)
			checked++
		}
		names := make([]string, 0, len(s.Properties))
		for name := range s.Properties {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			visit(path+".properties."+name, s.Properties[name], seen)
		}
		visit(path+".items", s.Items, seen)
		for i, sub := range s.AllOf {
			visit(fmt.Sprintf("%s.allOf[%d]", path, i), sub, seen)
		}
		for i, sub := range s.AnyOf {
			visit(fmt.Sprintf("%s.anyOf[%d]", path, i), sub, seen)
		}
	}
	for name, ref := range doc.Components.Schemas {
		visit(name, ref, map[*openapi3.Schema]bool{})
	}
	require.Greater(t, checked, 20, "the document should carry examples")
}

// TestNoReferenceSiblings keeps Reference Objects outside schemas bare:
// kin-openapi v0.152.0 writes a "description" next to a response's $ref into
// the shared component, so every use of it would show that description.
func TestNoReferenceSiblings(t *testing.T) {
	t.Parallel()

	var doc any
	require.NoError(t, json.Unmarshal(openapi.JSON(), &doc))
	var walk func(path string, node any)
	walk = func(path string, node any) {
		switch node := node.(type) {
		case map[string]any:
			if _, ok := node["$ref"]; ok && len(node) > 1 && !strings.Contains(path, "/schema") {
				t.Errorf("%s: $ref with siblings outside a schema; use a named component instead", path)
			}
			for k, v := range node {
				walk(path+"/"+k, v)
			}
		case []any:
			for i, v := range node {
				walk(fmt.Sprintf("%s/%d", path, i), v)
			}
		}
	}
	walk("", doc)
}

// normalize round-trips a value through JSON with UseNumber, as request and
// response bodies are decoded.
func normalize(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	require.NoError(t, dec.Decode(&out))
	return out
}

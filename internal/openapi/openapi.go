package openapi

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// document is the OpenAPI 3.1 document, written by hand; see the package
// documentation.
//
//go:embed openapi.json
var document []byte

// JSON returns the document's bytes, as served at GET /openapi.json
// (Content-Type application/json). The caller owns the returned slice.
func JSON() []byte {
	return bytes.Clone(document)
}

// Load parses the document with kin-openapi, resolves its references and
// validates it. Each call returns a new *openapi3.T that the caller may
// modify.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(document)
	if err != nil {
		return nil, fmt.Errorf("openapi: load document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: validate document: %w", err)
	}
	return doc, nil
}

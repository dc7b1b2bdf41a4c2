package openapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/crunchjobs/crunch/internal/openapi"
)

func ExampleValidateResponse() {
	req := httptest.NewRequest(http.MethodGet, "/v1/jobs/job_01JD8X3QZK4V2M7N9P5R6T8W0Y", nil)
	header := http.Header{"Content-Type": {"application/problem+json"}}
	body := []byte(`{"type":"not_found","title":"Not Found","status":404,"detail":"no such job"}`)

	// A documented status with a body that matches its schema.
	fmt.Println(openapi.ValidateResponse(req, http.StatusNotFound, header, body))

	// GET /v1/jobs/{id} never answers 500: the document does not list it.
	err := openapi.ValidateResponse(req, http.StatusInternalServerError, header, body)
	fmt.Println(err != nil)
	// Output:
	// <nil>
	// true
}

func ExampleLoad() {
	doc, err := openapi.Load()
	if err != nil {
		panic(err)
	}
	fmt.Println(doc.OpenAPI, doc.Info.Title, doc.Info.Version)
	fmt.Println(doc.Paths.Value("/v1/jobs").Post.OperationID)
	// Output:
	// 3.1.0 crunch API 0.1.0
	// createJob
}

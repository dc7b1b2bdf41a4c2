package ui_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/crunchjobs/crunch/internal/ui"
)

// Mount the dashboard under /ui/, as the API does.
func ExampleHandler() {
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui/", ui.Handler()))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ui/", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output: 200 text/html; charset=utf-8
}

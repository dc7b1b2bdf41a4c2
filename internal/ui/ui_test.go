package ui_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/ui"
)

func TestHandlerServesTheFiles(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.StripPrefix("/ui/", ui.Handler()))
	t.Cleanup(srv.Close)
	tests := []struct {
		path, contentType, contains string
	}{
		{"/ui/", "text/html; charset=utf-8", "<title>crunch dashboard</title>"},
		{"/ui/app.js", "text/javascript; charset=utf-8", "Authorization"},
		{"/ui/style.css", "text/css; charset=utf-8", ":focus-visible"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			res, err := http.Get(srv.URL + tt.path)
			require.NoError(t, err)
			defer res.Body.Close()
			body, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, res.StatusCode)
			require.Equal(t, tt.contentType, res.Header.Get("Content-Type"))
			require.Contains(t, string(body), tt.contains)
			csp := res.Header.Get("Content-Security-Policy")
			require.Contains(t, csp, "default-src 'none'")
			require.Contains(t, csp, "script-src 'self'")
			require.Contains(t, csp, "connect-src 'self'")
			require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		})
	}
	res, err := http.Get(srv.URL + "/ui/nope.js")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}

// Nothing is fetched from outside: no file names another origin, and the
// page has no inline script or style (the CSP would block them).
func TestNothingFromOutside(t *testing.T) {
	t.Parallel()
	url := regexp.MustCompile(`(?i)\b(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(ui.Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(ui.Files(), path)
		require.NoError(t, err)
		for _, m := range url.FindAllString(string(b), -1) {
			require.Equal(t, "http://www.w3.org", m, "%s names another origin: %s", path, m) // the SVG namespace, never fetched
		}
		if strings.HasSuffix(path, ".html") {
			for _, tag := range regexp.MustCompile(`<script[^>]*>[^<]*`).FindAllString(string(b), -1) {
				require.Regexp(t, `\bsrc="[a-z]+\.js"[^>]*>$`, tag, "%s: scripts are files of this origin", path)
			}
			require.NotContains(t, string(b), "style=")
		}
		return nil
	})
	require.NoError(t, err)
}

// Every form control of the page has a label.
func TestEveryInputHasALabel(t *testing.T) {
	t.Parallel()
	b, err := fs.ReadFile(ui.Files(), "index.html")
	require.NoError(t, err)
	page := string(b)
	ids := regexp.MustCompile(`<(?:input|select|textarea)[^>]*\bid="([^"]+)"`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, ids)
	for _, m := range ids {
		require.Contains(t, page, `for="`+m[1]+`"`, "#%s has no label", m[1])
	}
	require.Contains(t, page, `aria-live="polite"`)
	require.Contains(t, page, `lang="en"`)
}

package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/api"
	"github.com/crunchjobs/crunch/internal/redistest"
)

const (
	adminKey = "admin-key-0123456789"
	aliceKey = "alice-key-0123456789"
	bobKey   = "bob-key-0123456789"
)

// serve starts an API server with cfg on its own namespace of the test
// Redis, behind a real HTTP server.
func serve(t *testing.T, cfg api.Config) (url, ns string) {
	t.Helper()
	cfg.Namespace = redistest.Namespace(t)
	cfg.Logger = discard
	srv, err := api.New(cfg, redistest.Client(t))
	require.NoError(t, err)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL, cfg.Namespace
}

type answer struct {
	status int
	header http.Header
	body   string
}

// call sends a request; auth is "", "Bearer <key>" or "Basic user:password".
func call(t *testing.T, method, url, auth string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	require.NoError(t, err)
	switch scheme, cred, _ := strings.Cut(auth, " "); scheme {
	case "Basic":
		user, pass, _ := strings.Cut(cred, ":")
		req.SetBasicAuth(user, pass)
	case "Bearer":
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

// submitJob creates a job through the API so that its queues exist.
func submitJob(t *testing.T, url, key, body string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/v1/jobs", strings.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var j struct{ ID string }
	require.Equal(t, http.StatusAccepted, res.StatusCode)
	require.NoError(t, json.NewDecoder(res.Body).Decode(&j))
	return j.ID
}

// The contract's admin-key rule, against the real mounted asynqmon: its
// index page and its queue API.
func TestMonitoringAccess(t *testing.T) {
	t.Parallel()
	tenants := map[string]string{"alice": aliceKey, "bob": bobKey}
	tests := []struct {
		name string
		cfg  api.Config
		auth string
		want int
	}{
		{name: "admin key as bearer", cfg: api.Config{AdminKey: adminKey, APIKeys: tenants}, auth: "Bearer " + adminKey, want: 200},
		{name: "admin key as basic password", cfg: api.Config{AdminKey: adminKey, APIKeys: tenants}, auth: "Basic admin:" + adminKey, want: 200},
		{name: "admin key with any basic user", cfg: api.Config{AdminKey: adminKey}, auth: "Basic :" + adminKey, want: 200},
		{name: "no credentials", cfg: api.Config{AdminKey: adminKey, APIKeys: tenants}, want: 401},
		{name: "wrong bearer", cfg: api.Config{AdminKey: adminKey, APIKeys: tenants}, auth: "Bearer " + adminKey + "x", want: 401},
		{name: "wrong basic password", cfg: api.Config{AdminKey: adminKey, APIKeys: tenants}, auth: "Basic " + adminKey + ":nope", want: 401},
		{name: "a tenant key is not the admin key", cfg: api.Config{AdminKey: adminKey, APIKeys: tenants}, auth: "Bearer " + aliceKey, want: 401},
		{name: "admin key required without tenants too", cfg: api.Config{AdminKey: adminKey}, want: 401},
		{name: "open without admin key and without tenants", cfg: api.Config{}, want: 200},
		{name: "absent without admin key but with tenants", cfg: api.Config{APIKeys: tenants}, want: 404},
		{name: "absent with tenants whatever is sent", cfg: api.Config{APIKeys: tenants}, auth: "Bearer " + aliceKey, want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url, ns := serve(t, tt.cfg)
			key := ""
			if len(tt.cfg.APIKeys) > 0 {
				key = aliceKey
			}
			submitJob(t, url, key, `{"kernel":"primes","params":{"to":1000}}`)

			index := call(t, http.MethodGet, url+"/monitoring/", tt.auth)
			queues := call(t, http.MethodGet, url+"/monitoring/api/queues", tt.auth)
			redirect := call(t, http.MethodGet, url+"/monitoring", tt.auth)
			require.Equal(t, tt.want, index.status, index.body)
			require.Equal(t, tt.want, queues.status, queues.body)
			switch tt.want {
			case 200:
				require.Contains(t, index.header.Get("Content-Type"), "text/html")
				require.Contains(t, index.body, "<title>Asynq")
				var list struct {
					Queues []struct{ Queue string } `json:"queues"`
				}
				require.NoError(t, json.Unmarshal([]byte(queues.body), &list), queues.body)
				var names []string
				for _, q := range list.Queues {
					names = append(names, q.Queue)
				}
				require.Contains(t, names, ns+":control", "asynqmon lists this deployment's queues")
				require.Equal(t, http.StatusFound, redirect.status)
				require.Equal(t, "/monitoring/", redirect.header.Get("Location"))
			case 401:
				require.Equal(t, "application/problem+json", index.header.Get("Content-Type"))
				require.NotContains(t, index.body, "Asynq")
				require.NotContains(t, queues.body, ns)
				require.Contains(t, index.header.Values("WWW-Authenticate"), `Basic realm="crunch monitoring", charset="UTF-8"`)
				require.Equal(t, http.StatusUnauthorized, redirect.status)
			case 404:
				require.Equal(t, "application/problem+json", index.header.Get("Content-Type"))
				require.NotContains(t, queues.body, ns)
				require.Equal(t, http.StatusNotFound, redirect.status)
			}
		})
	}
}

// A browser sends Basic credentials with cross-site requests by itself, so
// changes through monitoring must come from its own origin.
func TestMonitoringRefusesCrossSiteChanges(t *testing.T) {
	t.Parallel()
	url, ns := serve(t, api.Config{AdminKey: adminKey})
	submitJob(t, url, "", `{"kernel":"primes","params":{"to":1000}}`)
	pause := url + "/monitoring/api/queues/" + ns + ":control:pause"
	auth := "Basic admin:" + adminKey

	r := call(t, http.MethodPost, pause, auth, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, r.status, r.body)
	r = call(t, http.MethodPost, pause, auth, "Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, r.status, r.body)

	host := strings.TrimPrefix(url, "http://")
	r = call(t, http.MethodPost, pause, auth, "Origin", "http://"+host, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	queue := call(t, http.MethodGet, url+"/monitoring/api/queues/"+ns+":control", auth)
	require.Equal(t, http.StatusOK, queue.status, queue.body)
	require.Contains(t, queue.body, `"paused":true`)
}

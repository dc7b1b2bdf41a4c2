package webhook_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/crunchjobs/crunch/internal/webhook"
)

// A receiver checks each delivery's signature against its signing secret
// (GET /v1/webhooks/secret) before trusting the body, and answers 2xx
// quickly; a non-2xx answer is retried.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		// Verify the exact bytes received, before parsing them.
		if err := webhook.Verify(secret, r.Header, body); err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var event struct {
			Type string `json:"type"`
			Data struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &event); err != nil {
			http.Error(w, "invalid body", http.StatusBadRequest)
			return
		}
		// A retry has the same webhook-id: skip the ones already handled.
		fmt.Println("verified", r.Header.Get("webhook-id"), event.Type, event.Data.ID, event.Data.Status)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	// What a crunch worker sends, signed with signingSecret.
	send := func(signingSecret string) int {
		body := []byte(`{"type":"job.succeeded","timestamp":"2026-11-23T10:00:00Z","data":{"id":"job_01JEXAMPLE","status":"succeeded"}}`)
		id, now := "msg_l3yokqw4ktzn4zxrozoe7r4p2q", time.Now()
		wh, _ := standardwebhooks.NewWebhook(signingSecret)
		sig, _ := wh.Sign(id, now, body)
		req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
		req.Header.Set("content-type", "application/json")
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
		req.Header.Set("webhook-signature", sig)
		resp, err := srv.Client().Do(req)
		if err != nil {
			return 0
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println(send(secret))
	fmt.Println(send("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")) // a forger's secret
	// Output:
	// verified msg_l3yokqw4ktzn4zxrozoe7r4p2q job.succeeded job_01JEXAMPLE succeeded
	// 204
	// 401
}

// With tenants, each tenant's secret is derived from the master secret;
// it is what GET /v1/webhooks/secret returns to that tenant.
func ExampleSecret() {
	master := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	acme, _ := webhook.Secret(master, "acme", true)
	single, _ := webhook.Secret(master, "acme", false)
	fmt.Println(acme)
	fmt.Println(single == master)
	// Output:
	// whsec_nYbO2HmOBGRx/BTJI3BGLjlvlNNgwjgp4lZnM2FdV2Y=
	// true
}

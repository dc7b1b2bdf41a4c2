package webhook

import (
	"net/http"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Verify checks a delivery as its receiver would, with the Standard
// Webhooks library: header carries webhook-id, webhook-timestamp and
// webhook-signature, body is the request body exactly as received, secret
// is the receiver's "whsec_…" signing secret (GET /v1/webhooks/secret). It
// fails when the signature does not match or the timestamp is more than
// five minutes away from now.
func Verify(secret string, header http.Header, body []byte) error {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return err
	}
	return wh.Verify(body, header)
}

package webhook

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

const (
	testMaster  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the Standard Webhooks example secret
	testMaster2 = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
)

func TestSecret(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		master        string
		tenant        string
		multi         bool
		want          string // "" to check only that it is valid
		sameAs, other [3]any // [master, tenant, multi] giving the same / a different secret
	}{
		{name: "single tenant is the master", master: testMaster, tenant: "acme", want: testMaster},
		{name: "single tenant ignores the tenant", master: testMaster, tenant: "", want: testMaster},
		{
			name: "deterministic", master: testMaster, tenant: "acme", multi: true,
			sameAs: [3]any{testMaster, "acme", true}, other: [3]any{testMaster, "acme2", true},
		},
		{
			name: "differs per master", master: testMaster, tenant: "acme", multi: true,
			sameAs: [3]any{testMaster, "acme", true}, other: [3]any{testMaster2, "acme", true},
		},
		{
			name: "differs from the master", master: testMaster, tenant: "", multi: true,
			sameAs: [3]any{testMaster, "", true}, other: [3]any{testMaster, "", false},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Secret(tc.master, tc.tenant, tc.multi)
			require.NoError(t, err)
			if tc.want != "" {
				require.Equal(t, tc.want, got)
			}
			if tc.sameAs[0] != nil {
				same, err := Secret(tc.sameAs[0].(string), tc.sameAs[1].(string), tc.sameAs[2].(bool))
				require.NoError(t, err)
				require.Equal(t, got, same)
				other, err := Secret(tc.other[0].(string), tc.other[1].(string), tc.other[2].(bool))
				require.NoError(t, err)
				require.NotEqual(t, got, other)
			}
			requireUsable(t, got)
		})
	}
}

// requireUsable checks that the library can sign with secret and verify
// the result.
func requireUsable(t *testing.T, secret string) {
	t.Helper()
	require.True(t, strings.HasPrefix(secret, "whsec_"), secret)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(key), MinSecretBytes)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	now := time.Now()
	body := []byte(`{"type":"job.succeeded"}`)
	sig, err := wh.Sign("msg_x", now, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set("webhook-id", "msg_x")
	h.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	h.Set("webhook-signature", sig)
	require.NoError(t, Verify(secret, h, body))
}

// knownAcme is the key of tenant "acme" under testMaster, computed
// independently (Python's hmac module).
const knownAcme = "nYbO2HmOBGRx/BTJI3BGLjlvlNNgwjgp4lZnM2FdV2Y="

// The derivation is fixed: a change would invalidate every tenant's secret.
func TestSecretKnownAnswer(t *testing.T) {
	t.Parallel()
	got, err := Secret(testMaster, "acme", true)
	require.NoError(t, err)
	require.Equal(t, "whsec_"+knownAcme, got)
}

func TestSecretInvalid(t *testing.T) {
	t.Parallel()
	for name, master := range map[string]string{
		"empty":          "",
		"no prefix":      strings.TrimPrefix(testMaster, "whsec_"),
		"bad base64":     "whsec_not base64!",
		"too short":      "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, MinSecretBytes-1)),
		"only prefix":    "whsec_",
		"url-safe chars": "whsec_-_-_-_-_-_-_-_-_-_-_-_-_-_",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, multi := range []bool{false, true} {
				_, err := Secret(master, "acme", multi)
				require.ErrorIs(t, err, ErrInvalidSecret)
			}
		})
	}
}

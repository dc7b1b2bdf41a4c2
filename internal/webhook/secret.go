package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// SecretPrefix starts every signing secret, as in the Standard Webhooks
// specification: the rest is the base64 of the key bytes.
const SecretPrefix = "whsec_"

// MinSecretBytes is the shortest master key accepted, in bytes (decoded).
const MinSecretBytes = 16

// secretLabel separates tenant secrets from any other use of the master key;
// "v1" lets a future scheme derive different secrets from the same master.
const secretLabel = "crunch webhook secret v1\x00"

// Secret returns the signing secret of tenant's webhooks. Without tenants
// (multiTenant false) it is master itself. With tenants it is derived from
// the master key bytes and the tenant name,
//
//	"whsec_" + base64(HMAC-SHA256(masterKey, "crunch webhook secret v1\x00" + tenant))
//
// so a tenant, who knows only its own secret, can neither forge another
// tenant's deliveries nor recover the master key. The result is the same on
// every call, in every process sharing the master secret.
func Secret(master, tenant string, multiTenant bool) (string, error) {
	key, err := decodeSecret(master)
	if err != nil {
		return "", err
	}
	if !multiTenant {
		return master, nil
	}
	return deriveSecret(key, tenant), nil
}

func deriveSecret(masterKey []byte, tenant string) string {
	mac := hmac.New(sha256.New, masterKey)
	mac.Write([]byte(secretLabel))
	mac.Write([]byte(tenant))
	return SecretPrefix + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// decodeSecret returns the key bytes of a "whsec_" secret.
func decodeSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: missing the %q prefix", ErrInvalidSecret, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidSecret, err)
	}
	if len(key) < MinSecretBytes {
		return nil, fmt.Errorf("%w: only %d bytes", ErrInvalidSecret, len(key))
	}
	return key, nil
}

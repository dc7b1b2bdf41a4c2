package webhook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRefuseForbidden(t *testing.T) {
	t.Parallel()
	for addr, refused := range map[string]bool{
		"127.0.0.1:80":               true,
		"127.8.9.1:443":              true,
		"[::1]:80":                   true,
		"[::ffff:127.0.0.1]:80":      true,
		"10.1.2.3:80":                true,
		"172.16.0.1:80":              true,
		"192.168.1.1:80":             true,
		"169.254.169.254:80":         true, // cloud metadata
		"[fe80::1%eth0]:80":          true,
		"[fd00::1]:80":               true,
		"0.0.0.0:80":                 true,
		"[::]:80":                    true,
		"100.64.0.1:80":              true,
		"224.0.0.1:80":               true,
		"garbage":                    true, // fail closed
		"93.184.215.14:443":          false,
		"8.8.8.8:53":                 false,
		"[2606:4700:4700::1111]:443": false,
	} {
		err := refuseForbidden("tcp", addr, nil)
		if refused {
			require.ErrorIs(t, err, ErrRefusedAddress, addr)
		} else {
			require.NoError(t, err, addr)
		}
	}
}

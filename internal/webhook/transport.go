package webhook

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// NewTransport returns the HTTP transport of deliveries: it ignores proxy
// settings from the environment (a proxy would connect on our behalf and
// bypass the address check) and, unless allowPrivate, refuses at dial time
// to connect to any address [Forbidden] reports. The check runs on the
// address actually dialled, after name resolution, so a DNS answer that
// changed since submission, or a rebinding attack, is caught too.
func NewTransport(allowPrivate bool) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = refuseForbidden
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: MaxResponseBytes,
	}
}

// newClient returns the default client of a Deliverer.
func newClient(allowPrivate bool) *http.Client {
	return &http.Client{Transport: NewTransport(allowPrivate), CheckRedirect: noRedirects}
}

// noRedirects makes a client return a 3xx answer as it is.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// refuseForbidden is a net.Dialer Control function: it runs before each
// connect, with the resolved address, and refuses forbidden ones.
func refuseForbidden(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", ErrRefusedAddress, address)
	}
	if Forbidden(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrRefusedAddress, ap.Addr())
	}
	return nil
}

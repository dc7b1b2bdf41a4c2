package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// Events a job's webhook may ask for.
const (
	EventStarted   = "job.started"
	EventSucceeded = "job.succeeded"
	EventFailed    = "job.failed"
	EventCanceled  = "job.canceled"
)

// Events lists every event name; DefaultEvents those sent when a job's
// webhook names none.
var (
	Events        = []string{EventStarted, EventSucceeded, EventFailed, EventCanceled}
	DefaultEvents = []string{EventSucceeded, EventFailed, EventCanceled}
)

// KnownEvent reports whether name is an event crunch sends.
func KnownEvent(name string) bool { return slices.Contains(Events, name) }

// ErrRefusedAddress means a webhook target is, or resolves to, an address
// webhooks may not reach.
var ErrRefusedAddress = errors.New("refused address")

// CheckURL validates a webhook URL at submission: http or https, a host,
// no credentials, and — unless allowPrivate — no literal address that is
// loopback, private, link-local, multicast or unspecified. Host names are
// checked again when they are resolved, at delivery.
func CheckURL(raw string, allowPrivate bool) error {
	if len(raw) > 2048 {
		return errors.New("must be at most 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("must be an absolute http or https URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must use the http or https scheme")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("must have a host")
	}
	if u.User != nil {
		return errors.New("must not contain credentials")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if addr, err := netip.ParseAddr(host); err == nil {
		if Forbidden(addr) {
			return fmt.Errorf("%w: %s is not a public address", ErrRefusedAddress, addr)
		}
		return nil
	}
	if ip := net.ParseIP(host); ip != nil { // forms netip refuses, e.g. IPv4 in IPv6 brackets
		if addr, ok := netip.AddrFromSlice(ip); ok && Forbidden(addr.Unmap()) {
			return fmt.Errorf("%w: %s is not a public address", ErrRefusedAddress, host)
		}
	}
	if strings.EqualFold(host, "localhost") || hasSuffixFold(host, ".localhost") {
		return fmt.Errorf("%w: %s is loopback", ErrRefusedAddress, host)
	}
	return nil
}

// Forbidden reports whether webhooks may not reach addr: loopback,
// private, link-local, multicast, unspecified and other non-public ranges.
func Forbidden(addr netip.Addr) bool {
	addr = addr.Unmap()
	return !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() ||
		addr.IsUnspecified() || slices.ContainsFunc(reserved, func(p netip.Prefix) bool { return p.Contains(addr) })
}

// reserved are further non-public ranges (RFC 6890 and friends).
var reserved = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"), // NAT64 can reach IPv4 private space
	netip.MustParsePrefix("2002::/16"),    // 6to4 likewise
}

func hasSuffixFold(s, suffix string) bool {
	if len(s) < len(suffix) {
		return false
	}
	tail := s[len(s)-len(suffix):]
	for i := range len(tail) {
		a, b := tail[i], suffix[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

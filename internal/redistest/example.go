package redistest

import (
	"fmt"
	"net"
	"testing"
)

// ForExample returns the URL of the tests' Redis (see [URL]) and a key
// namespace of its own, for runnable examples, which have no testing.TB to
// ask with; where a test would fail, it panics, which fails the example.
func ForExample() (url, namespace string) {
	return URL(exampleTB{}), Namespace(exampleTB{})
}

// exampleTB is the testing.TB of examples.
type exampleTB struct{ testing.TB }

func (exampleTB) Helper()                      {}
func (exampleTB) Logf(string, ...any)          {}
func (exampleTB) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (exampleTB) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// FreeAddr returns a loopback address whose port was free a moment ago,
// for a server of a test or an example to listen on.
func FreeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

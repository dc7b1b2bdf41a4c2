package devserver_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/crunchjobs/crunch/internal/redistest"
)

// TestMain gives the tests and examples a real Redis and checks for
// leaked goroutines.
func TestMain(m *testing.M) { redistest.Main(m) }

// testRedis returns the URL of the tests' Redis and a key namespace of
// this call's own, for the examples, which have no *testing.T to ask
// redistest with. A program of your own reads REDIS_URL instead.
func testRedis() (url, namespace string) {
	return redistest.URL(exampleTB{}), redistest.Namespace(exampleTB{})
}

// exampleTB is the testing.TB of the examples: a failure panics, which
// fails the example.
type exampleTB struct{ testing.TB }

func (exampleTB) Helper()                      {}
func (exampleTB) Logf(string, ...any)          {}
func (exampleTB) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (exampleTB) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

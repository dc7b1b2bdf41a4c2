package devserver_test

import (
	"testing"

	"github.com/crunchjobs/crunch/internal/redistest"
)

// TestMain gives the tests and examples a real Redis and checks for
// leaked goroutines.
func TestMain(m *testing.M) { redistest.Main(m) }

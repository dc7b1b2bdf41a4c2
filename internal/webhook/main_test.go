package webhook

import (
	"testing"

	"github.com/crunchjobs/crunch/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

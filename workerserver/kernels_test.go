package workerserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/pi"
	"github.com/crunchjobs/crunch/workerserver"
)

// named is a Runner whose name is chosen by the test.
type named struct {
	pricing.Runner
	name string
}

func (n named) Name() string { return n.name }

var _ tasks.Runner = named{}

func TestKernels(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		opts  workerserver.Options
		names []string // the kernels run, when valid
		err   string   // the refusal, when not
	}{
		{"builtins", workerserver.Options{},
			[]string{"primes", "pi", "mandelbrot", "matmul", "stats", "wordcount"}, ""},
		{"own beside builtins", workerserver.Options{Runners: []tasks.Runner{pricing.Runner{}}},
			[]string{"primes", "pi", "mandelbrot", "matmul", "stats", "wordcount", "european-option"}, ""},
		{"own only", workerserver.Options{NoBuiltins: true, Runners: []tasks.Runner{pricing.Runner{}}},
			[]string{"european-option"}, ""},
		{"a builtin again, without builtins", workerserver.Options{NoBuiltins: true, Runners: []tasks.Runner{pi.Runner{}}},
			[]string{"pi"}, ""},
		{"shadows a builtin", workerserver.Options{Runners: []tasks.Runner{named{name: "primes"}}}, nil, `two kernels are named "primes"`},
		{"twice", workerserver.Options{Runners: []tasks.Runner{pricing.Runner{}, pricing.Runner{}}}, nil, `two kernels are named "european-option"`},
		{"twice without builtins", workerserver.Options{NoBuiltins: true, Runners: []tasks.Runner{pricing.Runner{}, named{name: "european-option"}}}, nil, `two kernels are named "european-option"`},
		{"no name", workerserver.Options{Runners: []tasks.Runner{named{}}}, nil, "empty name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			runners, err := tt.opts.Kernels()
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				// Run refuses the same options before it touches Redis.
				tt.opts.Getenv = func(string) string { return "" }
				require.ErrorContains(t, workerserver.Run(t.Context(), tt.opts), tt.err)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, r := range runners {
				names = append(names, r.Name())
			}
			require.Equal(t, tt.names, names)
		})
	}
}

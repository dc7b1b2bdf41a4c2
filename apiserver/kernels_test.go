package apiserver_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/pi"
)

// named is a Spec whose name is chosen by the test.
type named struct {
	sumSquares
	name string
}

func (n named) Name() string { return n.name }

var _ tasks.Spec = named{}

func TestKernels(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		opts  apiserver.Options
		names []string // the kernels offered, when valid
		err   string   // the refusal, when not
	}{
		{"builtins", apiserver.Options{},
			[]string{"primes", "pi", "mandelbrot", "matmul", "stats", "wordcount"}, ""},
		{"own beside builtins", apiserver.Options{Specs: []tasks.Spec{pricing.Spec{}, sumSquares{}}},
			[]string{"primes", "pi", "mandelbrot", "matmul", "stats", "wordcount", "european-option", "sumsq"}, ""},
		{"own only", apiserver.Options{NoBuiltins: true, Specs: []tasks.Spec{pricing.Spec{}}},
			[]string{"european-option"}, ""},
		{"a builtin's own again, without builtins", apiserver.Options{NoBuiltins: true, Specs: []tasks.Spec{pi.Spec{}}},
			[]string{"pi"}, ""},
		{"shadows a builtin", apiserver.Options{Specs: []tasks.Spec{named{name: "pi"}}}, nil, `two kernels are named "pi"`},
		{"twice", apiserver.Options{Specs: []tasks.Spec{pricing.Spec{}, pricing.Spec{}}}, nil, `two kernels are named "european-option"`},
		{"twice without builtins", apiserver.Options{NoBuiltins: true, Specs: []tasks.Spec{sumSquares{}, named{name: "sumsq"}}}, nil, `two kernels are named "sumsq"`},
		{"no name", apiserver.Options{Specs: []tasks.Spec{named{}}}, nil, "empty name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			specs, err := tt.opts.Kernels()
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				// Run refuses the same options before it touches Redis.
				tt.opts.Getenv = func(string) string { return "" }
				require.ErrorContains(t, apiserver.Run(t.Context(), tt.opts), tt.err)
				return
			}
			require.NoError(t, err)
			var names []string
			for _, s := range specs {
				names = append(names, s.Name())
				require.True(t, json.Valid(s.ParamsSchema()), s.Name())
			}
			require.Equal(t, tt.names, names)
		})
	}
}

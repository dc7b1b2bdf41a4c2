package devserver_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/devserver"
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/pi"
)

// Run refuses kernels that the API would offer and no worker could run,
// and names that clash, before it starts anything.
func TestRunRefusesKernels(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts devserver.Options
		err  string
	}{
		{"spec without runner", devserver.Options{Specs: []tasks.Spec{pricing.Spec{}}},
			`kernel "european-option" has a Spec but no Runner`},
		{"spec without runner, no builtins", devserver.Options{NoBuiltins: true, Specs: []tasks.Spec{pricing.Spec{}}},
			`kernel "european-option" has a Spec but no Runner`},
		{"a builtin's spec without builtins", devserver.Options{NoBuiltins: true, Specs: []tasks.Spec{pi.Spec{}}, Runners: []tasks.Runner{pricing.Runner{}}},
			`kernel "pi" has a Spec but no Runner`},
		{"spec shadows a builtin", devserver.Options{Specs: []tasks.Spec{pi.Spec{}}, Runners: []tasks.Runner{pricing.Runner{}}},
			`two kernels are named "pi"`},
		{"runner twice", devserver.Options{Specs: []tasks.Spec{pricing.Spec{}}, Runners: []tasks.Runner{pricing.Runner{}, pricing.Runner{}}},
			`two kernels are named "european-option"`},
		{"spec twice", devserver.Options{Specs: []tasks.Spec{pricing.Spec{}, pricing.Spec{}}, Runners: []tasks.Runner{pricing.Runner{}}},
			`two kernels are named "european-option"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Getenv = func(string) string { return "" }
			require.ErrorContains(t, devserver.Run(t.Context(), tt.opts), tt.err)
		})
	}
}

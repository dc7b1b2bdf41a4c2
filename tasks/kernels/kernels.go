// Package kernels is the registry of crunch's kernels.
//
// The API calls Specs and never Runners, so the linker leaves the kernels'
// computing code out of the API binary; the worker calls both.
package kernels

import (
	"fmt"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/mandelbrot"
	"github.com/crunchjobs/crunch/tasks/kernels/matmul"
	"github.com/crunchjobs/crunch/tasks/kernels/pi"
	"github.com/crunchjobs/crunch/tasks/kernels/primes"
	"github.com/crunchjobs/crunch/tasks/kernels/stats"
	"github.com/crunchjobs/crunch/tasks/kernels/wordcount"
)

// Specs returns the spec of every kernel, in a stable order.
func Specs() []tasks.Spec {
	return []tasks.Spec{
		primes.Spec{}, pi.Spec{}, mandelbrot.Spec{}, matmul.Spec{}, stats.Spec{}, wordcount.Spec{},
	}
}

// Names returns the built-in kernels' names, which no kernel of an
// operator's manifest may take.
func Names() []string {
	specs := Specs()
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name()
	}
	return names
}

// Runners returns the runner of every kernel, in the order of Specs.
func Runners() []tasks.Runner {
	return []tasks.Runner{
		primes.Runner{}, pi.Runner{}, mandelbrot.Runner{}, matmul.Runner{}, stats.Runner{}, wordcount.Runner{},
	}
}

// CheckNames reports an error when two kernels share a name or one has
// none: a program that adds its own kernels to the built-ins must not
// shadow one of them by accident.
func CheckNames[K interface{ Name() string }](ks []K) error {
	seen := make(map[string]bool, len(ks))
	for _, k := range ks {
		name := k.Name()
		switch {
		case name == "":
			return fmt.Errorf("a kernel (%T) has an empty name", k)
		case seen[name]:
			return fmt.Errorf("two kernels are named %q", name)
		}
		seen[name] = true
	}
	return nil
}

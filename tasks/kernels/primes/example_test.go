package primes_test

import (
	"context"
	"fmt"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/primes"
)

// The primes below a million, counted in three chunks: the result is the
// same for any number of chunks.
func Example() {
	out, err := kerneltest.Run(context.Background(), primes.Spec{}, primes.Runner{}, `{"to": 1000000}`, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Result))
	// Output:
	// {"count":78498,"sum":"37550402023","first":2,"last":999983}
}

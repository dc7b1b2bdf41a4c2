package pi_test

import (
	"context"
	"fmt"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/pi"
)

// A million samples, split into four chunks: the result is the same for
// any number of chunks.
func Example() {
	out, err := kerneltest.Run(context.Background(), pi.Spec{}, pi.Runner{}, `{"samples": 1000000, "seed": 42}`, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Result))
	// Output:
	// {"samples":1000000,"inside":785402,"estimate":3.141608,"stderr":0.001642172699302969}
}

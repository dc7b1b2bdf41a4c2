package stats_test

import (
	"context"
	"fmt"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/stats"
)

func Example() {
	// 1 is lost when 1e16 + 1 is rounded to float64; the exact sums keep it.
	out, err := kerneltest.Run(context.Background(), stats.Spec{}, stats.Runner{}, `{"values":[1e16, 1, -1e16, 3.5]}`, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Result))
	// Output:
	// {"count":4,"sum":4.5,"mean":1.125,"min":-10000000000000000,"max":10000000000000000,"variance":5e+31,"stddev":7071067811865475}
}

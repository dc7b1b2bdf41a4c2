package matmul_test

import (
	"context"
	"fmt"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/matmul"
)

// A 2×2 product split into two chunks, one row of C each.
func ExampleRunner() {
	out, err := kerneltest.Run(context.Background(), matmul.Spec{}, matmul.Runner{}, `{"a":[[1,2],[3,4]],"b":[[0,1],[1,0]]}`, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Result))
	// Output:
	// {"rows":2,"cols":2,"checksum":10,"frobenius":5.477225575051661,"c":[[2,1],[4,3]]}
}

package pricing_test

import (
	"context"
	"fmt"

	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
)

// A hundred thousand paths in four chunks, run in process as a worker runs
// them: the result is the same for any number of chunks.
func Example() {
	out, err := kerneltest.Run(context.Background(), pricing.Spec{}, pricing.Runner{},
		`{"spot": 100, "strike": 100, "rate": 0.05, "volatility": 0.2, "maturity": 1, "paths": 100000, "seed": 1}`, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Result))
	// Output:
	// {"paths":100000,"call":{"price":10.483176462471388,"stderr":0.04667473625165057,"interval95":[10.391695660430246,10.57465726451253],"black_scholes":10.45058357218555},"put":{"price":5.552068186064311,"stderr":0.027246567766024465,"interval95":[5.498665894540573,5.605470477588049],"black_scholes":5.573526022256964},"resolution":0.0000059604644775390625}
}

func ExampleBlackScholes() {
	call, put := pricing.BlackScholes(100, 100, 0.05, 0.2, 1)
	fmt.Printf("call %.4f, put %.4f\n", call, put)
	// Output:
	// call 10.4506, put 5.5735
}

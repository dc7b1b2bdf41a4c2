package ratelimit_test

import (
	"context"
	"fmt"
	"math"

	"github.com/crunchjobs/crunch/internal/ratelimit"
)

// The API's POST /v1/jobs asks for a token per tenant and answers 429 with
// Retry-After, in whole seconds rounded up, when there is none.
func Example() {
	rdb, ns, done := exampleRedis() // a go-redis client on the tests' Redis and a fresh namespace
	defer done()

	// Three jobs at once, then one a second.
	lim, err := ratelimit.New(rdb, ratelimit.Config{Namespace: ns, Rate: 1, Burst: 3})
	if err != nil {
		panic(err)
	}
	for i := 1; i <= 4; i++ {
		ok, retryAfter, err := lim.Allow(context.Background(), "acme")
		if err != nil {
			panic(err) // the API answers 503
		}
		if !ok {
			fmt.Printf("job %d: 429 Too Many Requests, Retry-After: %.0f\n", i, math.Ceil(retryAfter.Seconds()))
			continue
		}
		fmt.Printf("job %d: 202 Accepted\n", i)
	}
	// Output:
	// job 1: 202 Accepted
	// job 2: 202 Accepted
	// job 3: 202 Accepted
	// job 4: 429 Too Many Requests, Retry-After: 1
}

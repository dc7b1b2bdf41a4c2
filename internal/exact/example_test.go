package exact_test

import (
	"fmt"

	"github.com/crunchjobs/crunch/internal/exact"
)

func Example() {
	values := []float64{1e16, 1, -1e16, 3.5}
	naive := 0.0
	var s exact.Sum
	for _, x := range values {
		naive += x
		s.Add(x)
	}
	fmt.Println("naive:", naive)
	fmt.Println("exact:", s.Float64(), s.Rat().RatString())

	var squares exact.Sum
	squares.AddSquare(3)
	squares.AddSquare(4)
	fmt.Println("3² + 4² =", squares.Float64())
	// Output:
	// naive: 3.5
	// exact: 4.5 9/2
	// 3² + 4² = 25
}

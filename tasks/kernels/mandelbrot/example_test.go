package mandelbrot_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/mandelbrot"
)

// A 64×48 render of the default view, split into four chunks: the result
// counts the pixels inside the set and the artifact is the PNG.
func ExampleRunner() {
	out, err := kerneltest.Run(context.Background(), mandelbrot.Spec{}, mandelbrot.Runner{}, `{"width":64,"height":48,"max_iter":100}`, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg, _ := png.DecodeConfig(bytes.NewReader(out.Artifact))
	fmt.Println(string(out.Result))
	fmt.Printf("PNG %d×%d\n", cfg.Width, cfg.Height)
	// Output:
	// {"width":64,"height":48,"max_iter":100,"inside":540}
	// PNG 64×48
}

package wordcount_test

import (
	"context"
	"fmt"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/wordcount"
)

func Example() {
	params := `{"text": "The cat and the hat. THE END, the end!", "top": 3}`
	out, err := kerneltest.Run(context.Background(), wordcount.Spec{}, wordcount.Runner{}, params, 4)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out.Result))
	// Output:
	// {"total":9,"unique":5,"top":[{"word":"the","count":4},{"word":"end","count":2},{"word":"and","count":1}]}
}

package kernels_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
)

// squares is a complete kernel: the sum of i² for from ≤ i < to.
type squaresSpec struct{}

func (squaresSpec) Name() string        { return "squares" }
func (squaresSpec) Description() string { return "Sum of the squares of the integers in [from, to)." }
func (squaresSpec) ArtifactType() string {
	return "" // no file
}

func (squaresSpec) ParamsSchema() json.RawMessage {
	return json.RawMessage(`{"type":"object","additionalProperties":false,"required":["to"],
		"properties":{"from":{"type":"integer","minimum":0,"default":0},"to":{"type":"integer","maximum":1000000}}}`)
}

func (squaresSpec) Prepare(raw json.RawMessage) (*tasks.Prepared, error) {
	p := tasks.NewParams(raw)
	from := p.Int("from", 0, 0, 1_000_000)
	to := p.RequiredInt("to", 1, 1_000_000)
	if !p.Failed("from") && !p.Failed("to") && to <= from {
		p.Fail("to", "must be greater than from")
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	params, _ := json.Marshal(map[string]int64{"from": from, "to": to})
	return &tasks.Prepared{Params: params, Extent: to - from, DefaultChunks: tasks.ChunksFor(to-from, 100_000)}, nil
}

type squaresRunner struct{}

func (squaresRunner) Name() string { return "squares" }

// Run sums its range; the partial is the sum as 8 bytes.
func (squaresRunner) Run(ctx context.Context, c tasks.Chunk) ([]byte, error) {
	var p struct{ From int64 }
	if err := json.Unmarshal(c.Params, &p); err != nil {
		return nil, err
	}
	var sum uint64
	for i := p.From + c.Range.Lo; i < p.From+c.Range.Hi; i++ {
		sum += uint64(i * i)
	}
	return binary.LittleEndian.AppendUint64(nil, sum), ctx.Err()
}

// Reduce adds the partials in chunk order.
func (squaresRunner) Reduce(_ context.Context, _ json.RawMessage, _ tasks.Input, partials [][]byte) (*tasks.Output, error) {
	var sum uint64
	for i, b := range partials {
		if len(b) != 8 {
			return nil, fmt.Errorf("partial %d: want 8 bytes, got %d", i, len(b))
		}
		sum += binary.LittleEndian.Uint64(b)
	}
	result, err := json.Marshal(map[string]uint64{"sum": sum})
	return &tasks.Output{Result: result}, err
}

// A kernel is a Spec (validation and splitting, linked by the API) and a
// Runner (the computation, linked by workers). kerneltest runs one in
// process exactly as the workers do; to offer it, add it to Specs and
// Runners in this package.
func Example_addAKernel() {
	for _, chunks := range []int{1, 7} {
		out, err := kerneltest.Run(context.Background(), squaresSpec{}, squaresRunner{}, `{"to":1000}`, chunks)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d chunks: %s\n", chunks, out.Result)
	}
	_, err := kerneltest.Run(context.Background(), squaresSpec{}, squaresRunner{}, `{"to":5,"step":2}`, 0)
	fmt.Println(err)
	// Output:
	// 1 chunks: {"sum":332833500}
	// 7 chunks: {"sum":332833500}
	// invalid params: step: unknown field
}

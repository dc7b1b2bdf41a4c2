package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkMatmulJob is a random n×n product through the service: POST
// /v1/jobs, then poll GET every 5 ms until it has succeeded, with one
// in-process worker (concurrency 2, default chunks). GFLOPS counts 2n³
// operations over that whole time. Each job has its own seed, so no worker
// holds its B from an earlier job. Compare it with OpenBLAS on as many
// threads (scripts/bench-matmul.sh runs both):
//
//	scripts/test.sh -run '^$' -bench MatmulJob -benchtime 3x ./internal/e2e
func BenchmarkMatmulJob(b *testing.B) {
	for _, n := range []int{1024, 2048} {
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			s := benchSystem(b, 1)
			seed := time.Now().UnixNano() % 1e9
			b.ResetTimer()
			for i := range b.N {
				j := s.submit(fmt.Sprintf(`{"kernel":"matmul","params":{"n":%d,"seed":%d}}`, n, seed+int64(i)))
				for {
					j = s.get(j.ID)
					if j.Status == "succeeded" {
						break
					}
					require.Contains(b, []string{"queued", "running"}, j.Status, "job %s", j.ID)
					time.Sleep(5 * time.Millisecond)
				}
			}
			b.StopTimer()
			b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
	}
}

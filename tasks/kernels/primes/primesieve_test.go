package primes_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/tasks/kernels/kerneltest"
	"github.com/crunchjobs/crunch/tasks/kernels/primes"
)

// TestCountsAgainstPrimesieve compares the counts of a few ranges, at
// several chunk counts, with primesieve's (an independent, widely used
// implementation; Debian package primesieve). primesieve's STOP is
// inclusive, so [from, to) is asked as from … to−1.
func TestCountsAgainstPrimesieve(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("primesieve")
	if err != nil {
		t.Skip("primesieve is not installed (apt-get install primesieve): the counts are checked against the reference sieve and known answers only")
	}
	for _, r := range [][2]int64{{0, 1e8}, {1e10, 1e10 + 3e7}, {1e12 - 2e7, 1e12}, {4294967000, 4294968000}} {
		t.Run(fmt.Sprint(r), func(t *testing.T) {
			t.Parallel()
			out, err := exec.CommandContext(t.Context(), bin, strconv.FormatInt(r[0], 10), strconv.FormatInt(r[1]-1, 10), "-c", "-q").Output()
			require.NoError(t, err)
			want, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
			require.NoError(t, err)
			res := kerneltest.Invariant(t, primes.Spec{}, primes.Runner{}, fmt.Sprintf(`{"from":%d,"to":%d}`, r[0], r[1]), 1, 3, 0)
			var got struct {
				Count uint64 `json:"count"`
			}
			require.NoError(t, json.Unmarshal(res.Result, &got))
			require.Equal(t, want, got.Count)
		})
	}
}

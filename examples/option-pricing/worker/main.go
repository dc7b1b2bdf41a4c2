// Command worker is the option-pricing example's worker: crunch's worker
// with the european-option kernel beside the built-ins. Run any number of
// replicas; configure them as crunch's worker (REDIS_URL,
// CRUNCH_WORKER_CONCURRENCY, …).
package main

import (
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/workerserver"
)

func main() { workerserver.Main(workerserver.Options{Runners: []tasks.Runner{pricing.Runner{}}}) }

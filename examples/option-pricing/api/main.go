// Command api is the option-pricing example's HTTP API: crunch's API with
// the european-option kernel beside the built-ins. It links only the
// kernel's Spec; configure it as crunch's api (REDIS_URL,
// CRUNCH_HTTP_ADDR, …).
package main

import (
	"github.com/crunchjobs/crunch/apiserver"
	"github.com/crunchjobs/crunch/examples/option-pricing/pricing"
	"github.com/crunchjobs/crunch/tasks"
)

func main() { apiserver.Main(apiserver.Options{Specs: []tasks.Spec{pricing.Spec{}}}) }

package redisconn_test

import (
	"fmt"

	"github.com/crunchjobs/crunch/internal/redisconn"
)

// A bad REDIS_URL is refused before anything connects, with a message that
// says what to fix.
func ExampleOptions() {
	for _, url := range []string{
		"redis://127.0.0.1:6379/0",
		"redis-sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379?master=crunch",
		"redis-cluster://:secret@10.0.1.1:6379,10.0.1.2:6379",
		"redis-sentinel://10.0.0.1:26379",
	} {
		t, err := redisconn.Options(url)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(t.Kind)
	}
	// Output:
	// single
	// sentinel
	// cluster
	// parse REDIS_URL: redis-sentinel://: the master's name is missing: add ?master=NAME (the name the sentinels monitor)
}

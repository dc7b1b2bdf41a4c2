package queue_test

import (
	"fmt"

	"github.com/crunchjobs/crunch/internal/queue"
)

// On a Redis Cluster the chunks of each priority spread over shard queues
// whose hash slots fall in evenly spaced parts of the slot space; a job's
// chunks go round-robin over them by index.
func ExampleShardedNamesFor() {
	n := queue.ShardedNamesFor("crunch", 3)
	for _, q := range n.ChunkQueues(queue.PriorityNormal) {
		fmt.Printf("%s slot %d\n", q, queue.Slot(q))
	}
	fmt.Println(n.ForChunk(queue.PriorityNormal, 4))
	fmt.Println(queue.NamesFor("crunch").ForChunk(queue.PriorityNormal, 4))
	// Output:
	// crunch:normal:0.21 slot 1785
	// crunch:normal:1.1 slot 8926
	// crunch:normal:2.9 slot 14982
	// crunch:normal:1.1
	// crunch:normal
}

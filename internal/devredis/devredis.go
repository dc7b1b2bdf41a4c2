// Package devredis embeds an in-memory Redis (miniredis) for the one-command
// dev mode. It keeps nothing on disk: everything is lost when the process
// exits, which is why dev mode says so loudly. Nothing but dev mode may
// import it.
package devredis

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
)

// Start starts an in-memory Redis on a free 127.0.0.1 port and returns its
// URL and a func that stops it.
func Start() (url string, stop func(), err error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return "", nil, fmt.Errorf("start embedded redis: %w", err)
	}
	return "redis://" + m.Addr() + "/0", m.Close, nil
}

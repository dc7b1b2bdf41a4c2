package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// tinyJob is the job every figure of the submit path uses: one chunk of pi
// with a thousand samples, microseconds of work.
const tinyJob = `{"kernel":"pi","params":{"samples":1000},"chunks":1}`

func httpClient(conns int) *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns},
	}
}

// post sends one POST /v1/jobs and returns the job id it was answered.
func post(ctx context.Context, c *http.Client, base, body string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/jobs", bytes.NewReader([]byte(body)))
	if err != nil {
		return "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusAccepted {
		return "", fmt.Errorf("POST /v1/jobs: %d %s", res.StatusCode, b)
	}
	var j struct{ ID string }
	if err := json.Unmarshal(b, &j); err != nil {
		return "", err
	}
	return j.ID, nil
}

// submitRate is how many POST /v1/jobs per second clients concurrent
// clients get answered with 202 in d; any other answer is an error.
func submitRate(ctx context.Context, base string, clients int, d time.Duration) (float64, error) {
	c := httpClient(clients)
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	t0 := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := post(ctx, c, base, tinyJob); err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
					}
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(t0).Seconds(), firstErr
}

// enqueueRate is how many raw asynq Enqueue calls per second clients
// goroutines make in d.
func enqueueRate(ctx context.Context, rdb *redis.Client, queue string, clients int, d time.Duration) (float64, error) {
	client := asynq.NewClientFromRedisClient(rdb)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := client.EnqueueContext(ctx, asynq.NewTask("raw", []byte(tinyJob)), asynq.Queue(queue)); err == nil {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(t0).Seconds(), nil
}

// status reads a job's status.
func status(ctx context.Context, c *http.Client, base, id string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/jobs/"+id, nil)
	if err != nil {
		return "", err
	}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var j struct{ Status string }
	if err := json.NewDecoder(res.Body).Decode(&j); err != nil {
		return "", err
	}
	return j.Status, nil
}

// roundTrips submits n tiny jobs one after another on an idle system and
// returns, for each, the time from POST to the first GET that shows it
// succeeded (polled every pollEvery).
func roundTrips(ctx context.Context, base string, n int, pollEvery time.Duration) ([]time.Duration, error) {
	c := httpClient(2)
	defer c.CloseIdleConnections()
	lat := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		id, err := post(ctx, c, base, tinyJob)
		if err != nil {
			return nil, err
		}
		for {
			st, err := status(ctx, c, base, id)
			if err != nil {
				return nil, err
			}
			if st == "succeeded" {
				break
			}
			if st == "failed" || st == "canceled" {
				return nil, fmt.Errorf("job %s %s", id, st)
			}
			if time.Since(t0) > 30*time.Second {
				return nil, fmt.Errorf("job %s not done after 30 s", id)
			}
			time.Sleep(pollEvery)
		}
		lat = append(lat, time.Since(t0))
		time.Sleep(20 * time.Millisecond) // let the system go idle again
	}
	return lat, nil
}

// percentile of sorted durations, p in [0, 1].
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return sorted[i]
}

func sortedCopy(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}

// finished counts a namespace's succeeded jobs of kernel pi.
func finished(ctx context.Context, rdb *redis.Client, ns string) (int64, error) {
	n, err := rdb.HGet(ctx, ns+":finished", "pi:succeeded").Int64()
	if err == redis.Nil {
		return 0, nil
	}
	return n, err
}

// completion submits n tiny jobs from clients concurrent clients and
// returns how long it took until all had succeeded.
func completion(ctx context.Context, base string, rdb *redis.Client, ns string, n, clients int) (time.Duration, error) {
	c := httpClient(clients)
	defer c.CloseIdleConnections()
	before, err := finished(ctx, rdb, ns)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := post(ctx, c, base, tinyJob); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	for {
		done, err := finished(ctx, rdb, ns)
		if err != nil {
			return 0, err
		}
		if done-before >= int64(n) {
			return time.Since(t0), nil
		}
		if time.Since(t0) > 10*time.Minute {
			return 0, fmt.Errorf("%d of %d jobs done after 10 minutes", done-before, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// redisCapacity is how many simple commands per second clients goroutines
// get through this Redis, unpipelined: the ceiling every figure of Redis
// load is compared with.
func redisCapacity(ctx context.Context, rdb *redis.Client, clients int, d time.Duration) float64 {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range clients {
		wg.Go(func() {
			key := fmt.Sprintf("bench:capacity:%d", i)
			for ctx.Err() == nil {
				if rdb.Incr(ctx, key).Err() == nil {
					n.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(t0).Seconds()
}

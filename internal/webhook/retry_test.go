package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/crunchjobs/crunch/internal/queue"
)

func TestScheduleLength(t *testing.T) {
	t.Parallel()
	require.Len(t, Schedule, queue.WebhookMaxRetry, "one delay per retry")
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	d := &Deliverer{}
	attempt := func(retryAfter time.Duration) error {
		return &AttemptError{StatusCode: 503, RetryAfter: retryAfter}
	}
	for _, tc := range []struct {
		n        int
		err      error
		min, max time.Duration // max exclusive
	}{
		{n: 0, err: attempt(0), min: 5 * time.Second, max: 5500 * time.Millisecond},
		{n: 1, err: attempt(0), min: 5 * time.Minute, max: 330 * time.Second},
		{n: 2, err: attempt(0), min: 30 * time.Minute, max: 33 * time.Minute},
		{n: 3, err: attempt(0), min: 2 * time.Hour, max: 132 * time.Minute},
		{n: 4, err: attempt(0), min: 5 * time.Hour, max: 330 * time.Minute},
		{n: 5, err: attempt(0), min: 10 * time.Hour, max: 11 * time.Hour},
		{n: 6, err: attempt(0), min: 14 * time.Hour, max: 924 * time.Minute},
		{n: 7, err: attempt(0), min: 20 * time.Hour, max: 22 * time.Hour},
		{n: 8, err: attempt(0), min: 24 * time.Hour, max: 1584 * time.Minute},
		{n: 9, err: attempt(0), min: 24 * time.Hour, max: 1584 * time.Minute},
		{n: -1, err: nil, min: 5 * time.Second, max: 5500 * time.Millisecond},
		{n: 0, err: errors.New("redis down"), min: 5 * time.Second, max: 5500 * time.Millisecond},
		// A later Retry-After wins, exactly; an earlier one does not.
		{n: 0, err: attempt(time.Hour), min: time.Hour, max: time.Hour + 1},
		{n: 3, err: attempt(time.Second), min: 2 * time.Hour, max: 132 * time.Minute},
		{n: 8, err: attempt(24 * time.Hour), min: 24 * time.Hour, max: 1584 * time.Minute},
		{n: 0, err: attempt(100 * time.Hour), min: MaxRetryAfter, max: MaxRetryAfter + 1},
		{n: 0, err: fmt.Errorf("wrapped: %w", attempt(time.Minute)), min: time.Minute, max: time.Minute + 1},
		{n: 0, err: errors.Join(attempt(time.Minute), errors.New("record failed")), min: time.Minute, max: time.Minute + 1},
	} {
		t.Run(fmt.Sprintf("n=%d %v", tc.n, tc.err), func(t *testing.T) {
			t.Parallel()
			seen := map[time.Duration]bool{}
			for range 200 {
				got := d.RetryDelay(tc.n, tc.err, nil)
				require.GreaterOrEqual(t, got, tc.min)
				require.Less(t, got, tc.max)
				seen[got] = true
			}
			if tc.max-tc.min > time.Second {
				require.Greater(t, len(seen), 1, "jittered")
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"1.5", 0},
		{"soon", 0},
		{"999999999999999999999", 0}, // overflows int64: malformed
		{"9223372036854775807", MaxRetryAfter},
		{"86401", MaxRetryAfter},
		{now.Add(90 * time.Minute).Format(http.TimeFormat), 90 * time.Minute},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), MaxRetryAfter},
		{now.Add(time.Hour).Format(time.RFC850), time.Hour},
	} {
		require.Equal(t, tc.want, parseRetryAfter(tc.header, now), "%q", tc.header)
	}
}

func TestAttemptErrorMessage(t *testing.T) {
	t.Parallel()
	base := AttemptError{JobID: "job_1", Event: EventSucceeded, WebhookID: "msg_1", Attempt: 2}
	for _, tc := range []struct {
		mod  func(*AttemptError)
		want string
	}{
		{func(e *AttemptError) { e.StatusCode = 503 }, "webhook msg_1 (job.succeeded of job_1) attempt 2: HTTP 503"},
		{func(e *AttemptError) { e.StatusCode = 302 }, "webhook msg_1 (job.succeeded of job_1) attempt 2: HTTP 302 (redirects are not followed)"},
		{func(e *AttemptError) { e.StatusCode = 410; e.Final = true }, "webhook msg_1 (job.succeeded of job_1) attempt 2: receiver answered 410 Gone"},
		{func(e *AttemptError) { e.Reason = "timeout"; e.Final = true }, "webhook msg_1 (job.succeeded of job_1) attempt 2: timeout; given up"},
		{func(e *AttemptError) { e.StatusCode = 429; e.RetryAfter = time.Minute }, "webhook msg_1 (job.succeeded of job_1) attempt 2: HTTP 429 (retry after 1m0s)"},
	} {
		e := base
		tc.mod(&e)
		require.Equal(t, tc.want, e.Error())
	}
}

package webhook

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

// Schedule is the contract's retry schedule: Schedule[n] is the delay
// after attempt n+1 fails, before attempt n+2. Its length is
// queue.WebhookMaxRetry.
var Schedule = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
	14 * time.Hour,
	20 * time.Hour,
	24 * time.Hour,
}

// MaxRetryAfter caps how long a receiver's Retry-After may postpone the
// next attempt.
const MaxRetryAfter = 24 * time.Hour

// AttemptError is the error [Deliverer.Handle] returns when an attempt
// failed: a non-2xx answer, or no answer.
type AttemptError struct {
	JobID     string
	Event     string
	WebhookID string
	// Attempt is the attempt's number, from 1.
	Attempt int
	// StatusCode is the receiver's answer, 0 when none came.
	StatusCode int
	// Reason says why no answer came ("timeout", "refused address", …),
	// "" when one did.
	Reason string
	// RetryAfter is the receiver's Retry-After, capped at [MaxRetryAfter];
	// 0 when it sent none.
	RetryAfter time.Duration
	// Final reports that no attempt follows: the last retry failed (asynq
	// archives the task), or the receiver answered 410 Gone.
	Final bool
	// Err is the underlying error: the HTTP client's when no answer came
	// (wrapping [ErrRefusedAddress] for a refused address), asynq.SkipRetry
	// for a URL that cannot work, [ErrGone] and asynq.SkipRetry for a 410,
	// nil for other answers.
	Err error
}

func (e *AttemptError) Error() string {
	var what string
	switch {
	case e.StatusCode == http.StatusGone:
		what = ErrGone.Error()
	case e.StatusCode >= 300 && e.StatusCode < 400:
		what = fmt.Sprintf("HTTP %d (redirects are not followed)", e.StatusCode)
	case e.StatusCode != 0:
		what = fmt.Sprintf("HTTP %d", e.StatusCode)
	default:
		what = e.Reason
	}
	s := fmt.Sprintf("webhook %s (%s of %s) attempt %d: %s", e.WebhookID, e.Event, e.JobID, e.Attempt, what)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Final && e.StatusCode != http.StatusGone {
		s += "; given up"
	}
	return s
}

func (e *AttemptError) Unwrap() error { return e.Err }

// RetryDelay is the asynq RetryDelayFunc of the webhook server: the delay
// after retry count n (n = 0 after the first attempt) is Schedule[n] plus
// a jitter drawn uniformly from [0, 10%) of it, so retries of many events
// spread out but never come earlier than the contract promises. When the
// failed attempt's answer carried a Retry-After (see [AttemptError]) that
// is later than that, the Retry-After wins, capped at [MaxRetryAfter].
// An n beyond the schedule uses its last step.
func (d *Deliverer) RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	base := scheduled(n)
	delay := base + rand.N(base/10+1)
	if ae, ok := errors.AsType[*AttemptError](err); ok && ae.RetryAfter > delay {
		delay = min(ae.RetryAfter, MaxRetryAfter)
	}
	return delay
}

// scheduled is the schedule's delay after retry count n.
func scheduled(n int) time.Duration {
	return Schedule[min(max(n, 0), len(Schedule)-1)]
}

// latestRetry bounds RetryDelay(n, err with retryAfter) from above.
func latestRetry(n int, retryAfter time.Duration) time.Duration {
	base := scheduled(n)
	return max(base+base/10, min(retryAfter, MaxRetryAfter))
}

// parseRetryAfter reads a Retry-After header, delay-seconds or an HTTP
// date (relative to now); 0 when absent, malformed or in the past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return min(time.Duration(min(secs, int64(MaxRetryAfter/time.Second)))*time.Second, MaxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), MaxRetryAfter)
	}
	return 0
}

package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/crunchjobs/crunch/client"
)

// progress shows how a waited-for job advances, on stderr: a progress bar
// (chunks done/total, rate, elapsed and remaining time) when stderr is a
// terminal, else plain lines that a log keeps readable.
type progress interface {
	// update is called with every state of the job, from one goroutine.
	update(j *client.Job)
	// finish ends the display; j is the job's last state, or nil when the
	// wait failed.
	finish(j *client.Job)
}

func newProgress(w io.Writer, mode string) progress {
	switch mode {
	case progressBar:
		return &barProgress{w: w}
	case progressLines:
		return &lineProgress{w: w, every: time.Second, now: time.Now}
	default:
		return noProgress{}
	}
}

// The progress modes.
const (
	progressBar   = "bar"
	progressLines = "lines"
	progressNone  = "none"
)

type noProgress struct{}

func (noProgress) update(*client.Job) {}
func (noProgress) finish(*client.Job) {}

// lineProgress prints one line per change of status, and at most one per
// second (every) while chunks complete, so that a job of 4096 chunks does
// not flood a log. The line of the final status is always printed.
type lineProgress struct {
	w     io.Writer
	every time.Duration
	now   func() time.Time

	rate       rate
	lastStatus client.Status
	lastDone   int
	lastLine   time.Time
}

func (p *lineProgress) update(j *client.Job) {
	now := p.now()
	p.rate.observe(j.Chunks.Done, now)
	changed := j.Status != p.lastStatus
	if !changed && (j.Chunks.Done == p.lastDone || now.Sub(p.lastLine) < p.every) {
		return
	}
	p.lastStatus, p.lastDone, p.lastLine = j.Status, j.Chunks.Done, now
	line := fmt.Sprintf("%s %s %d/%d chunks", j.ID, j.Status, j.Chunks.Done, j.Chunks.Total)
	if j.Status == client.StatusRunning && j.Chunks.Total > 0 {
		line += fmt.Sprintf(" %.0f%%", 100*j.Progress)
		if r, ok := p.rate.perSecond(); ok {
			line += fmt.Sprintf(" %.3g chunks/s", r)
			if r > 0 {
				eta := time.Duration(float64(j.Chunks.Total-j.Chunks.Done) / r * float64(time.Second))
				line += " eta " + roundDuration(eta).String()
			}
		}
	}
	if j.Error != nil {
		line += " (" + j.Error.Type + ")"
	}
	fmt.Fprintln(p.w, line)
}

func (p *lineProgress) finish(*client.Job) {}

// rate is the rate at which chunks complete, measured from the first
// state seen, so that the chunks done before crunch started watching do
// not count.
type rate struct {
	firstDone, lastDone int
	first, last         time.Time
}

func (r *rate) observe(done int, at time.Time) {
	if r.first.IsZero() {
		r.firstDone, r.first = done, at
	}
	r.lastDone, r.last = done, at
}

// perSecond is the rate in chunks per second; ok is false until there is
// something to measure.
func (r *rate) perSecond() (float64, bool) {
	d := r.last.Sub(r.first).Seconds()
	if d <= 0 || r.lastDone <= r.firstDone {
		return 0, d > 0
	}
	return float64(r.lastDone-r.firstDone) / d, true
}

// barProgress draws a github.com/schollz/progressbar bar. Its length is
// the job's chunks.total, unknown (a spinner) while that is 0, as for a
// kernel whose plan has not run yet. A ticker redraws it every second so
// that the elapsed and remaining times move between chunk completions.
type barProgress struct {
	w io.Writer

	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	total   int
	status  client.Status
	id      string
	started time.Time
	stop    chan struct{}
	done    chan struct{}
}

func (p *barProgress) update(j *client.Job) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		p.id, p.started = j.ID, time.Now()
		p.bar = p.newBar(j)
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.tick()
	}
	if j.Chunks.Total != p.total && j.Chunks.Total > 0 {
		p.total = j.Chunks.Total
		p.bar.ChangeMax(p.total)
	}
	if j.Status != p.status {
		p.status = j.Status
		p.bar.Describe(p.describe(j.Status))
	}
	if p.total > 0 {
		_ = p.bar.Set(min(j.Chunks.Done, p.total))
	} else {
		_ = p.bar.Add(1) // turn the spinner
	}
}

func (p *barProgress) newBar(j *client.Job) *progressbar.ProgressBar {
	max := j.Chunks.Total
	if max <= 0 {
		max = -1
	}
	p.total = max
	return progressbar.NewOptions(max,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.describe(j.Status)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("chunks"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionUseANSICodes(true),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionThrottle(50*time.Millisecond),
		progressbar.OptionSetTheme(progressbar.Theme{
			Saucer: "=", SaucerHead: ">", SaucerPadding: " ", BarStart: "[", BarEnd: "]",
		}),
	)
}

func (p *barProgress) describe(s client.Status) string {
	return fmt.Sprintf("%s %-9s", p.id, s)
}

func (p *barProgress) tick() {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			if p.total > 0 {
				_ = p.bar.Add(0)
			} else {
				_ = p.bar.Add(1)
			}
			p.mu.Unlock()
		}
	}
}

func (p *barProgress) finish(j *client.Job) {
	p.mu.Lock()
	if p.bar == nil {
		p.mu.Unlock()
		return
	}
	close(p.stop)
	p.mu.Unlock()
	<-p.done

	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.bar.Exit()
	if j == nil { // the wait failed: leave the bar as it was
		fmt.Fprintln(p.w)
		return
	}
	// The bar stops drawing once full, which happens before the reduce
	// step ends the job, so the final status gets a line of its own in
	// place of the bar.
	line := fmt.Sprintf("%s %-9s %d/%d chunks in %s", j.ID, j.Status, j.Chunks.Done, j.Chunks.Total,
		roundDuration(time.Since(p.started)))
	if j.Error != nil {
		line += " (" + j.Error.Type + ")"
	}
	fmt.Fprintf(p.w, "\r\x1b[2K%s\n", line)
}

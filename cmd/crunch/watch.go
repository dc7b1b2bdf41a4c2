package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/crunchjobs/crunch/client"
)

// watchOptions configure "crunch watch".
type watchOptions struct {
	list     client.ListOptions
	interval time.Duration // between refreshes
	count    int           // refreshes before exiting; 0: until interrupted
	live     bool          // redraw in place (stdout is a terminal)
}

// watch shows the newest jobs (at most opts.list.Limit) every interval
// until ctx ends (Ctrl-C), which is its normal end: it then returns nil.
// With opts.count it ends after that many refreshes, returning the error of
// the last one, if it failed.
//
// On a terminal it redraws one table in place, cut to the terminal's width
// so that no line wraps (a wrapped line would break the redraw). Elsewhere
// it prints one line per job whose status or chunk count changed since the
// previous refresh (every job the first time), or with -o json one JSON
// object per such job: a log of changes, not screens of repeated rows.
func watch(ctx context.Context, c *client.Client, opts watchOptions, p printer) error {
	seen := map[string]string{} // job id → its last "status done/total"
	drawn := 0                  // lines of the previous table, live mode
	for n := 1; ; n++ {
		page, err := c.List(ctx, opts.list)
		if ctx.Err() != nil {
			return nil
		}
		lastErr := err
		if err != nil {
			var prob *client.Problem
			if errors.As(err, &prob) && prob.Status < 500 {
				return err // a bad filter or key will not get better
			}
			// The API is away: say so and keep watching.
			if opts.live {
				drawn = redraw(p.w, drawn, []string{time.Now().Format(time.TimeOnly) + "  " + err.Error()})
			} else {
				fmt.Fprintf(p.w, "%s error %v\n", time.Now().UTC().Format(time.RFC3339), err)
			}
		} else if opts.live {
			drawn = redraw(p.w, drawn, liveTable(p, page, opts))
		} else if err := printChanges(p, page, seen); err != nil {
			return err
		}
		if opts.count > 0 && n >= opts.count {
			return lastErr // a bounded watch whose last refresh failed says so
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.interval):
		}
	}
}

// liveTable is the screen of one refresh: a title line and the table of
// jobs, each line cut to the terminal's width.
func liveTable(p printer, page *client.JobPage, opts watchOptions) []string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKERNEL\tSTATUS\tCHUNKS\tPROGRESS\tCREATED\tERROR")
	for i := range page.Jobs {
		fmt.Fprintln(tw, p.jobRow(&page.Jobs[i]))
	}
	_ = tw.Flush()
	title := fmt.Sprintf("crunch watch: %d newest jobs, every %s, at %s (Ctrl-C to stop)",
		len(page.Jobs), opts.interval, p.now().Format(time.TimeOnly))
	lines := append([]string{title}, strings.Split(strings.TrimRight(b.String(), "\n"), "\n")...)
	width := terminalWidth(p.w)
	for i, l := range lines {
		if r := []rune(l); len(r) >= width {
			lines[i] = string(r[:width-1])
		}
	}
	return lines
}

// redraw replaces the previous drawn lines with lines, using ANSI escapes:
// cursor up, then each line cleared before it is written.
func redraw(w io.Writer, drawn int, lines []string) int {
	var b strings.Builder
	if drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", drawn)
	}
	for _, l := range lines {
		b.WriteString("\r\x1b[2K")
		b.WriteString(l)
		b.WriteString("\n")
	}
	for i := len(lines); i < drawn; i++ { // the previous screen was longer
		b.WriteString("\r\x1b[2K\n")
	}
	if extra := drawn - len(lines); extra > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", extra)
	}
	_, _ = io.WriteString(w, b.String())
	return len(lines)
}

// printChanges prints the jobs whose state changed since seen, oldest
// first, and records them in seen. Jobs that left the page are forgotten,
// so seen stays as small as the page.
func printChanges(p printer, page *client.JobPage, seen map[string]string) error {
	now := p.now().UTC().Format(time.RFC3339)
	current := make(map[string]bool, len(page.Jobs))
	for i := len(page.Jobs) - 1; i >= 0; i-- {
		j := &page.Jobs[i]
		current[j.ID] = true
		state := fmt.Sprintf("%s %d/%d", j.Status, j.Chunks.Done, j.Chunks.Total)
		if seen[j.ID] == state {
			continue
		}
		seen[j.ID] = state
		var err error
		if p.json() {
			err = printJSONLine(p.w, j)
		} else {
			_, err = fmt.Fprintf(p.w, "%s %s %s %s %d/%d chunks\n", now, j.ID, j.Kernel, j.Status, j.Chunks.Done, j.Chunks.Total)
		}
		if err != nil {
			return err
		}
	}
	for id := range seen {
		if !current[id] {
			delete(seen, id)
		}
	}
	return nil
}

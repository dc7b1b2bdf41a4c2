package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/crunchjobs/crunch/client"
)

// The output formats of -o.
const (
	formatText = "text" // a summary or table for people (the default)
	formatJSON = "json" // the API's JSON, indented, for scripts
)

// printer writes a command's result in the format the user chose.
type printer struct {
	w      io.Writer
	format string
	now    func() time.Time
}

func (p printer) json() bool { return p.format == formatJSON }

// job prints one job: its JSON, or a summary of its fields.
func (p printer) job(j *client.Job) error {
	if p.json() {
		return printJSON(p.w, j)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(name, value string) { fmt.Fprintf(tw, "%s\t%s\n", name, value) }
	row("ID", j.ID)
	row("Kernel", j.Kernel)
	row("Status", string(j.Status))
	chunks := fmt.Sprintf("%d/%d done", j.Chunks.Done, j.Chunks.Total)
	if j.Chunks.Failed > 0 {
		chunks += fmt.Sprintf(", %d failed", j.Chunks.Failed)
	}
	row("Chunks", fmt.Sprintf("%s (%.0f%%)", chunks, 100*j.Progress))
	if j.Priority != "" {
		row("Priority", j.Priority)
	}
	row("Created", p.when(j.CreatedAt))
	if j.StartedAt != nil {
		row("Started", p.when(*j.StartedAt))
	}
	if j.FinishedAt != nil {
		row("Finished", fmt.Sprintf("%s, took %s", p.when(*j.FinishedAt), roundDuration(j.FinishedAt.Sub(j.CreatedAt))))
	}
	if len(j.Params) > 0 && string(j.Params) != "null" {
		row("Params", compact(j.Params))
	}
	if m := compact(j.Metadata); m != "" && m != "null" && m != "{}" {
		row("Metadata", m)
	}
	if j.Webhook != nil {
		row("Webhook", j.Webhook.URL+" "+strings.Join(j.Webhook.Events, ","))
	}
	if j.Error != nil {
		msg := j.Error.Type
		if j.Error.Detail != "" {
			msg += ": " + j.Error.Detail
		}
		row("Error", msg)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(j.Result) > 0 && string(j.Result) != "null" {
		b.WriteString("Result\n")
		var pretty bytes.Buffer
		if json.Indent(&pretty, j.Result, "  ", "  ") == nil {
			b.WriteString("  ")
			b.Write(pretty.Bytes())
			b.WriteString("\n")
		} else {
			b.WriteString("  " + string(j.Result) + "\n")
		}
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// jobs prints a page of jobs as a table, or the page's JSON.
func (p printer) jobs(page *client.JobPage) error {
	if p.json() {
		return printJSON(p.w, page)
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKERNEL\tSTATUS\tCHUNKS\tPROGRESS\tCREATED\tERROR")
	for i := range page.Jobs {
		fmt.Fprintln(tw, p.jobRow(&page.Jobs[i]))
	}
	return tw.Flush()
}

// jobRow is one job as a tab-separated table row.
func (p printer) jobRow(j *client.Job) string {
	errType := ""
	if j.Error != nil {
		errType = j.Error.Type
	}
	return fmt.Sprintf("%s\t%s\t%s\t%d/%d\t%.0f%%\t%s\t%s",
		j.ID, j.Kernel, j.Status, j.Chunks.Done, j.Chunks.Total, 100*j.Progress, p.ago(j.CreatedAt), errType)
}

// chunks prints a job's chunks as a table, or their JSON.
func (p printer) chunks(chunks []client.Chunk) error {
	if p.json() {
		return printJSON(p.w, chunks)
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INDEX\tSTATUS\tWORKER\tATTEMPTS\tDURATION")
	for _, c := range chunks {
		worker, took := "-", "-"
		if c.Worker != nil {
			worker = *c.Worker
		}
		if c.DurationMS != nil {
			took = roundDuration(time.Duration(*c.DurationMS * float64(time.Millisecond))).String()
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", c.Index, c.Status, worker, c.Attempts, took)
	}
	return tw.Flush()
}

// kernels prints the kernels with their params, or their JSON (with the
// whole params schema).
func (p printer) kernels(kernels []client.Kernel) error {
	if p.json() {
		return printJSON(p.w, kernels)
	}
	tw := tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPARAMS\tDESCRIPTION")
	for _, k := range kernels {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", k.Name, strings.Join(paramNames(k.ParamsSchema), " "), k.Description)
	}
	return tw.Flush()
}

// paramNames lists the properties of a params schema, the required ones
// first and marked with a "*".
func paramNames(schema json.RawMessage) []string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return nil
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	names := make([]string, 0, len(s.Properties))
	for name := range s.Properties {
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		if required[names[i]] != required[names[j]] {
			return required[names[i]]
		}
		return names[i] < names[j]
	})
	for i, name := range names {
		if required[name] {
			names[i] = name + "*"
		}
	}
	return names
}

func (p printer) when(t time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + p.ago(t) + ")"
}

// ago is how long before now t was, as "3s ago".
func (p printer) ago(t time.Time) string {
	d := p.now().Sub(t)
	if d < 0 {
		d = 0
	}
	return roundDuration(d).String() + " ago"
}

// roundDuration keeps two or three significant digits of d.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Hour:
		return d.Round(time.Minute)
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond)
	default:
		return d
	}
}

// compact is a JSON value on one line.
func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// terminal reports whether w is a terminal, and so whether crunch may
// redraw what it wrote (a progress bar, the watch table). TERM=dumb
// (Emacs shells, some CI logs) counts as no terminal.
func terminal(w io.Writer, getenv func(string) string) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && getenv("TERM") != "dumb"
}

// terminalWidth is the width of the terminal w, or 80.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return width
		}
	}
	return 80
}

// printJSONLine writes v as one line of JSON (a JSON Lines record).
func printJSONLine(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

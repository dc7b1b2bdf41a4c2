// Command matmul-plot draws the time of one n×n DGEMM against n for the
// matmul kernel and OpenBLAS, from the raw figures scripts/bench-matmul.sh
// writes (its CSV), as a PNG:
//
//	go run ./scripts/matmul-plot -csv figures.csv -o docs/img/matmul-scaling.png
//
// Each point is the median over the benchmark's rounds of 2n³ / GFLOPS
// (wall clock; with -cpu, CPU time: 2n³ / GFLOP per CPU-second); both axes are logarithmic, so the n³ slope is a straight
// line and the gap between two lines is their ratio.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func main() {
	in := flag.String("csv", "", "figures from scripts/bench-matmul.sh (CSV=…)")
	out := flag.String("o", "docs/img/matmul-scaling.png", "PNG to write")
	title := flag.String("title", "C = A·B, n×n float64: time per product", "plot title")
	cpu := flag.Bool("cpu", false, "plot CPU seconds per product (work / GFLOP per CPU-second) instead of wall-clock seconds")
	flag.Parse()
	if err := run(*in, *out, *title, *cpu); err != nil {
		slog.Error("matmul-plot", "err", err)
		os.Exit(1)
	}
}

// series is one line: an implementation on a number of threads.
type series struct {
	impl    string
	threads int
}

func run(in, out, title string, cpu bool) error {
	if in == "" {
		return errors.New("-csv is required")
	}
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("open figures: %w", err)
	}
	defer f.Close()
	times, err := readTimes(f, cpu)
	if err != nil {
		return err
	}
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "n"
	p.Y.Label.Text = "seconds per product (median over rounds)"
	if cpu {
		p.Y.Label.Text = "CPU seconds per product (median over rounds)"
	}
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = false, false
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(10), vg.Points(10)
	p.Add(plotter.NewGrid())

	keys := make([]series, 0, len(times))
	for k := range times {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b series) int {
		if a.impl != b.impl {
			return compareStrings(a.impl, b.impl)
		}
		return a.threads - b.threads
	})
	colors := map[string]color.Color{
		"crunch":   color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
		"openblas": color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	}
	for _, k := range keys {
		col, ok := colors[k.impl]
		if !ok {
			continue // the service rows: two sizes only, shown in the tables
		}
		pts := times[k]
		var ticks []plot.Tick
		for _, pt := range pts {
			ticks = append(ticks, plot.Tick{Value: pt.X, Label: strconv.Itoa(int(pt.X))})
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("%v: %w", k, err)
		}
		line.Color, points.Color = col, col
		line.Width = vg.Points(1.5)
		if k.threads > 1 {
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			points.Shape = draw.TriangleGlyph{}
		} else {
			points.Shape = draw.CircleGlyph{}
		}
		p.Add(line, points)
		label := fmt.Sprintf("%s, %d threads", k.impl, k.threads)
		if k.threads == 1 {
			label = k.impl + ", 1 thread"
		}
		p.Legend.Add(label, line, points)
	}
	if err := p.Save(7*vg.Inch, 5*vg.Inch, out); err != nil {
		return fmt.Errorf("save %s: %w", out, err)
	}
	return nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// readTimes reads the CSV (impl,n,threads,round,gflops,gflops_per_cpu_s)
// into the median seconds per product of each series, by n: wall-clock
// seconds from gflops, or CPU seconds from gflops_per_cpu_s.
func readTimes(r io.Reader, cpu bool) (map[series]plotter.XYs, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read figures: %w", err)
	}
	if len(rows) < 2 {
		return nil, errors.New("no figures")
	}
	secs := map[series]map[int][]float64{}
	for i, row := range rows[1:] {
		if len(row) < 5 {
			return nil, fmt.Errorf("line %d: %d fields", i+2, len(row))
		}
		n, err1 := strconv.Atoi(row[1])
		t, err2 := strconv.Atoi(row[2])
		field := row[4]
		if cpu {
			if len(row) < 6 || row[5] == "" {
				continue // the service rows have no CPU figure
			}
			field = row[5]
		}
		g, err3 := strconv.ParseFloat(field, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+2, err)
		}
		if g <= 0 {
			continue
		}
		k := series{impl: row[0], threads: t}
		if secs[k] == nil {
			secs[k] = map[int][]float64{}
		}
		secs[k][n] = append(secs[k][n], 2*float64(n)*float64(n)*float64(n)/(g*1e9))
	}
	out := map[series]plotter.XYs{}
	for k, byN := range secs {
		ns := make([]int, 0, len(byN))
		for n := range byN {
			ns = append(ns, n)
		}
		slices.Sort(ns)
		for _, n := range ns {
			v := slices.Clone(byN[n])
			slices.Sort(v)
			m := v[len(v)/2]
			if len(v)%2 == 0 {
				m = (v[len(v)/2-1] + v[len(v)/2]) / 2
			}
			out[k] = append(out[k], plotter.XY{X: float64(n), Y: m})
		}
	}
	return out, nil
}

// Command primesbench times crunch's primes kernel beside primesieve (the
// anchor: `primesieve N -c -tT`), alternating the two, and plots the median
// times against N.
//
//	go run ./scripts/primesbench -n 1e8,1e9,1e10 -threads 1,2 -reps 3 -png docs/img/primes-scaling.png
//
// crunch runs in this process, one chunk covering [0, N), with GOMAXPROCS
// set to the thread count; primesieve runs as a child process. For each run
// it prints the wall time and the CPU time (user + system: of this process
// for crunch, of the child for primesieve) and checks that both count the
// same primes. On a shared, loaded machine the CPU time is the steadier
// figure; the plot shows both medians.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/crunchjobs/crunch/tasks"
	"github.com/crunchjobs/crunch/tasks/kernels/primes"
)

func main() {
	ns := flag.String("n", "1e8,1e9,1e10", "comma-separated upper ends N")
	threads := flag.String("threads", "1,2", "comma-separated thread counts")
	reps := flag.Int("reps", 3, "runs of each tool per (N, threads)")
	out := flag.String("png", "", "write the plot to this PNG file")
	flag.Parse()
	if err := run(context.Background(), *ns, *threads, *reps, *out); err != nil {
		log.Fatal(err)
	}
}

type key struct {
	tool    string
	threads int
}

type sample struct{ wall, cpu float64 }

func run(ctx context.Context, nList, tList string, reps int, out string) error {
	var ns []float64
	for _, s := range strings.Split(nList, ",") {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("bad -n %q: %w", s, err)
		}
		ns = append(ns, n)
	}
	var ts []int
	for _, s := range strings.Split(tList, ",") {
		t, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("bad -threads %q: %w", s, err)
		}
		ts = append(ts, t)
	}
	medians := map[key][][2]float64{} // per key: (n, wall median), …
	cpuMedians := map[key][][2]float64{}
	fmt.Println("n\tthreads\ttool\trun\twall_s\tcpu_s\tcount")
	for _, n := range ns {
		for _, t := range ts {
			got := map[string][]sample{}
			for r := range reps {
				cw, cc, count, err := crunch(ctx, int64(n), t)
				if err != nil {
					return err
				}
				fmt.Printf("%.0e\t%d\tcrunch\t%d\t%.3f\t%.3f\t%d\n", n, t, r, cw, cc, count)
				pw, pc, pcount, err := primesieve(ctx, int64(n), t)
				if err != nil {
					return err
				}
				fmt.Printf("%.0e\t%d\tprimesieve\t%d\t%.3f\t%.3f\t%d\n", n, t, r, pw, pc, pcount)
				if count != pcount {
					return fmt.Errorf("N=%.0e: crunch counts %d primes, primesieve %d", n, count, pcount)
				}
				got["crunch"] = append(got["crunch"], sample{cw, cc})
				got["primesieve"] = append(got["primesieve"], sample{pw, pc})
			}
			for tool, s := range got {
				k := key{tool, t}
				medians[k] = append(medians[k], [2]float64{n, median(s, func(x sample) float64 { return x.wall })})
				cpuMedians[k] = append(cpuMedians[k], [2]float64{n, median(s, func(x sample) float64 { return x.cpu })})
			}
			cw := median(got["crunch"], func(x sample) float64 { return x.wall })
			pw := median(got["primesieve"], func(x sample) float64 { return x.wall })
			cc := median(got["crunch"], func(x sample) float64 { return x.cpu })
			pc := median(got["primesieve"], func(x sample) float64 { return x.cpu })
			fmt.Printf("# N=%.0e threads=%d median wall crunch/primesieve %.2f (%.3f/%.3f s), cpu %.2f (%.3f/%.3f s)\n",
				n, t, cw/pw, cw, pw, cc/pc, cc, pc)
		}
	}
	if out == "" {
		return nil
	}
	return plotTimes(out, ts, medians, cpuMedians)
}

func median(s []sample, f func(sample) float64) float64 {
	v := make([]float64, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// crunch counts the primes below n in one chunk on t threads and returns
// the wall and CPU seconds and the count.
func crunch(ctx context.Context, n int64, t int) (wall, cpu float64, count int64, err error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(t))
	params := json.RawMessage(fmt.Sprintf(`{"from":0,"to":%d}`, n))
	chunk := tasks.Chunk{Total: 1, Range: tasks.Range{Lo: 0, Hi: n}, Params: params}
	c0 := cpuSelf()
	t0 := time.Now()
	partial, err := primes.Runner{}.Run(ctx, chunk)
	if err != nil {
		return 0, 0, 0, err
	}
	wall, cpu = time.Since(t0).Seconds(), cpuSelf()-c0
	res, err := primes.Runner{}.Reduce(ctx, params, nil, [][]byte{partial})
	if err != nil {
		return 0, 0, 0, err
	}
	var r struct {
		Count int64 `json:"count"`
	}
	if err := json.Unmarshal(res.Result, &r); err != nil {
		return 0, 0, 0, err
	}
	return wall, cpu, r.Count, nil
}

func cpuSelf() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// primesieve runs `primesieve n -c -tT -q` and returns its wall and CPU
// seconds and count.
func primesieve(ctx context.Context, n int64, t int) (wall, cpu float64, count int64, err error) {
	cmd := exec.CommandContext(ctx, "primesieve", strconv.FormatInt(n, 10), "-c", "-t"+strconv.Itoa(t), "-q")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, fmt.Errorf("primesieve (Debian package primesieve): %w", err)
	}
	wall = time.Since(t0).Seconds()
	cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	count, err = strconv.ParseInt(strings.TrimSpace(stdout.String()), 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("primesieve output %q: %w", stdout.String(), err)
	}
	return wall, cpu, count, nil
}

func plotTimes(out string, ts []int, wall, cpu map[key][][2]float64) error {
	p := plot.New()
	p.Title.Text = "primes below N: crunch vs primesieve (medians)"
	p.X.Label.Text = "N"
	p.Y.Label.Text = "seconds"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	var lines []any
	for _, t := range ts {
		for _, tool := range []string{"crunch", "primesieve"} {
			for _, m := range []struct {
				name string
				data map[key][][2]float64
			}{{"wall", wall}, {"cpu", cpu}} {
				pts := m.data[key{tool, t}]
				xy := make(plotter.XYs, len(pts))
				for i, v := range pts {
					xy[i].X, xy[i].Y = v[0], v[1]
				}
				lines = append(lines, fmt.Sprintf("%s %d thread(s), %s", tool, t, m.name), xy)
			}
		}
	}
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return err
	}
	return p.Save(8*vg.Inch, 6*vg.Inch, out)
}

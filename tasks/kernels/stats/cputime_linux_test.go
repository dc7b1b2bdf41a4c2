package stats

import (
	"runtime"
	"syscall"
	"testing"
)

// threadCPU reports, as the metric "MB/cpu-s", the input bytes per second
// of CPU time of the calling thread while f runs b.N times: on a shared,
// loaded machine this is steadier than the wall-clock MB/s. The thread is
// locked for the duration; work on other threads (the GC) is not counted.
func threadCPU(b *testing.B, bytes int64, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := rusageThread()
	for b.Loop() {
		f()
	}
	if d := rusageThread() - t0; d > 0 {
		b.ReportMetric(float64(bytes)*float64(b.N)/d/1e6, "MB/cpu-s")
	}
}

func rusageThread() float64 {
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

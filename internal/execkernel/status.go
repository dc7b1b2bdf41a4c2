package execkernel

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// supervisorStatus is what a step's supervisor reported.
type supervisorStatus struct {
	pid int
	// final is the last line: "exit N", "signal N", "error …"; "" when
	// the supervisor ended without saying.
	final string
}

func readStatus(r io.Reader) supervisorStatus {
	var st supervisorStatus
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "pid "); ok {
			st.pid, _ = strconv.Atoi(n)
			continue
		}
		st.final = line
	}
	return st
}

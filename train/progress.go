package train

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// progress draws a one-line bar with carriage returns when the output is a
// terminal; elsewhere (files, pipes, CI logs) it draws nothing, so logs stay clean.
// A small hand-written bar: the log lines already carry everything, so a library
// would not earn its place.
type progress struct {
	w     io.Writer
	on    bool
	drawn bool
}

func newProgress(w io.Writer, want bool) *progress {
	return &progress{w: w, on: want && isTerminal(w)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

const barWidth = 30

func (p *progress) show(epoch, epochs, step, steps int, loss float64) {
	if !p.on {
		return
	}
	done := barWidth * step / steps
	fmt.Fprintf(p.w, "\r[%s%s] epoch %d/%d  %d/%d  loss %.4f ", strings.Repeat("=", done),
		strings.Repeat(" ", barWidth-done), epoch, epochs, step, steps, loss)
	p.drawn = true
}

// clear erases the bar so that a log line can be printed in its place.
func (p *progress) clear() {
	if p.on && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

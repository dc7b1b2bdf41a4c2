// Package logging sets up crunch's structured logs: JSON lines through
// log/slog, one logger per process handed down explicitly, and an adapter
// that routes asynq's own logs into it.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/hibiken/asynq"
)

// New returns a JSON logger writing to w at level ("debug", "info", "warn"
// or "error"; "" means info).
func New(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("log level %q: %w", level, err)
		}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// Asynq adapts l to asynq's Logger interface.
func Asynq(l *slog.Logger) asynq.Logger {
	return asynqLogger{l.With(slog.String("component", "asynq"))}
}

type asynqLogger struct{ l *slog.Logger }

func msg(args []any) string { return strings.TrimSpace(fmt.Sprintln(args...)) }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(msg(args)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(msg(args)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(msg(args)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(msg(args)) }

// Fatal logs at error level. asynq calls it for errors it cannot recover
// from; unlike asynq's default logger it does not exit, so the process
// shuts down through its normal path and reports the error.
func (a asynqLogger) Fatal(args ...any) { a.l.Error(msg(args), slog.Bool("fatal", true)) }

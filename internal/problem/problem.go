// Package problem is the RFC 9457 problem object crunch uses twice: as the
// body of every HTTP error, and as the error of a failed or canceled job.
// Keeping one type means a client parses both the same way.
package problem

import "github.com/crunchjobs/crunch/tasks"

// Job error types (Job.error.type). More may be added; these never change.
const (
	TypeTimeout     = "timeout"
	TypeKernelError = "kernel_error"
	TypeCanceled    = "canceled"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Errors lists the invalid fields of a validation problem.
	Errors []tasks.FieldError `json:"errors,omitempty"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

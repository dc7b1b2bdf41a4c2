package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/crunchjobs/crunch/crunchtype"
	"github.com/crunchjobs/crunch/internal/store"
	"github.com/crunchjobs/crunch/tasks"
)

// Problem types of HTTP errors (the "type" member of problem+json).
const (
	typeMalformed       = "malformed_request"
	typeValidation      = "validation_error"
	typeNotFound        = "not_found"
	typeConflict        = "conflict"
	typeTooLarge        = "payload_too_large"
	typeUnauthorized    = "unauthorized"
	typeUnavailable     = "unavailable"
	typeNotAllowed      = "method_not_allowed"
	typeInternal        = "internal_error"
	typeTooManyRequests = "too_many_requests"
)

func newProblem(status int, typ, detail string) *crunchtype.Problem {
	return &crunchtype.Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail}
}

// maxFieldErrors caps the errors listed in one answer, so that a body of
// thousands of bad fields cannot make a huge response.
const maxFieldErrors = 100

func validationProblem(errs []tasks.FieldError) *crunchtype.Problem {
	p := newProblem(http.StatusUnprocessableEntity, typeValidation, "The request has invalid fields; see errors.")
	if len(errs) > maxFieldErrors {
		p.Detail = fmt.Sprintf("The request has %d invalid fields; the first %d are listed in errors.", len(errs), maxFieldErrors)
		errs = errs[:maxFieldErrors]
	}
	p.Errors = errs
	return p
}

var errJobNotFound = newProblem(http.StatusNotFound, typeNotFound, "No job with this id.")

// handleError is the one place where errors become responses: every error
// is rendered as application/problem+json.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := s.toProblem(c, err)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/problem+json")
	switch p.Status {
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", "1")
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="crunch"`)
	}
	if c.Request().Method == http.MethodHead {
		err = c.NoContent(p.Status)
	} else {
		err = c.JSON(p.Status, p)
	}
	if err != nil {
		s.log.WarnContext(c.Request().Context(), "write error response", slog.Any("err", err))
	}
}

func (s *Server) toProblem(c echo.Context, err error) *crunchtype.Problem {
	var (
		p        *crunchtype.Problem
		httpErr  *echo.HTTPError
		maxBytes *http.MaxBytesError
	)
	switch {
	case errors.As(err, &p):
		return p
	case errors.As(err, &maxBytes):
		return newProblem(http.StatusRequestEntityTooLarge, typeTooLarge, "The request body is larger than the server accepts.")
	case errors.Is(err, store.ErrNotFound):
		return errJobNotFound
	case errors.As(err, &httpErr):
		return echoProblem(httpErr)
	case errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
		// The client went away. Abort the response rather than let the
		// server send an empty 200 to a client that only half-closed.
		panic(http.ErrAbortHandler)
	default:
		// Every error that is not the client's comes from Redis (down,
		// failing over, timing out): tell the client to retry.
		s.log.ErrorContext(c.Request().Context(), "request failed",
			slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.Any("err", err))
		return newProblem(http.StatusServiceUnavailable, typeUnavailable, "The job store is unavailable; retry shortly.")
	}
}

func echoProblem(e *echo.HTTPError) *crunchtype.Problem {
	detail := ""
	if m, ok := e.Message.(string); ok {
		detail = m
	}
	typ := strings.ToLower(strings.ReplaceAll(http.StatusText(e.Code), " ", "_"))
	switch e.Code {
	case http.StatusNotFound:
		typ, detail = typeNotFound, "No such resource."
	case http.StatusMethodNotAllowed:
		typ, detail = typeNotAllowed, "This method is not allowed on this resource."
	case http.StatusRequestEntityTooLarge:
		typ, detail = typeTooLarge, "The request body is larger than the server accepts."
	case http.StatusInternalServerError:
		typ, detail = typeInternal, "The server failed to handle the request."
	}
	if typ == "" {
		typ = "error"
	}
	return newProblem(e.Code, typ, detail)
}

package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/crunchjobs/crunch/internal/openapi"
)

// healthz is GET /healthz: the process is alive.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is GET /readyz: Redis answers.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return newProblem(http.StatusServiceUnavailable, typeUnavailable, "Redis is unreachable.")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// openAPI is GET /openapi.json.
func (s *Server) openAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openapi.JSON())
}

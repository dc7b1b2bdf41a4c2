package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/crunchjobs/crunch/internal/ui"
)

// mountUI serves the dashboard at /ui/ (no key needed to load it: it
// asks the API for everything with the key the user enters) and sends /
// there.
func (s *Server) mountUI(e *echo.Echo) {
	toUI := func(c echo.Context) error { return c.Redirect(http.StatusFound, "/ui/") }
	e.GET("/", toUI)
	e.GET("/ui", toUI)
	files := echo.WrapHandler(http.StripPrefix("/ui/", ui.Handler()))
	e.GET("/ui/*", files)
	e.HEAD("/ui/*", files)
}

package api

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes is the whole route table.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError

	e.Use(middleware.RequestID())
	e.Use(writeDeadline)
	e.Use(s.recordRequest)
	e.Use(middleware.Recover())

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.serveMetrics)
	e.GET("/openapi.json", s.openAPI)

	// The /v1 routes take the authenticate middleware one by one rather
	// than through a Group, whose catch-all routes would turn a wrong
	// method into 404 instead of 405.
	auth := s.authenticate
	e.POST("/v1/jobs", s.createJob, auth)
	e.GET("/v1/jobs", s.listJobs, auth)
	e.GET("/v1/jobs/:id", s.getJob, auth)
	e.POST("/v1/jobs/:id/cancel", s.cancelJob, auth)
	e.GET("/v1/jobs/:id/chunks", s.getChunks, auth)
	e.GET("/v1/jobs/:id/events", s.streamEvents, auth)
	e.GET("/v1/jobs/:id/artifact", s.getArtifact, auth)
	e.GET("/v1/jobs/:id/deliveries", s.getDeliveries, auth)
	e.GET("/v1/webhooks/secret", s.getWebhookSecret, auth)
	e.GET("/v1/kernels", s.listKernels, auth)
	e.GET("/v1/workers", s.listWorkers, auth)

	s.mountUI(e)         // ui.go
	s.mountMonitoring(e) // monitoring.go
	return e
}

package api

import (
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

type kernelInfo struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	ParamsSchema json.RawMessage `json:"params_schema"`
	ArtifactType *string         `json:"artifact_type"`
}

// listKernels is GET /v1/kernels.
func (s *Server) listKernels(c echo.Context) error {
	list := make([]kernelInfo, 0, len(s.cfg.Specs))
	for _, spec := range s.cfg.Specs {
		k := kernelInfo{Name: spec.Name(), Description: spec.Description(), ParamsSchema: spec.ParamsSchema()}
		if t := spec.ArtifactType(); t != "" {
			k.ArtifactType = &t
		}
		list = append(list, k)
	}
	return c.JSON(http.StatusOK, map[string]any{"kernels": list})
}

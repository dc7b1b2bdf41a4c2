package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/crunchjobs/crunch/internal/store"
)

const tenantKey = "crunch.tenant"

// authenticate resolves the caller's tenant from its bearer key. Keys are
// compared as SHA-256 digests in constant time, every key every time, so
// neither a key's content nor its length leaks through timing.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.cfg.APIKeys) == 0 {
			c.Set(tenantKey, store.AnonymousTenant)
			return next(c)
		}
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return newProblem(http.StatusUnauthorized, typeUnauthorized, "Send an API key as Authorization: Bearer <key>.")
		}
		given := sha256.Sum256([]byte(token))
		tenant := ""
		for name, key := range s.cfg.APIKeys {
			want := sha256.Sum256([]byte(key))
			if subtle.ConstantTimeCompare(given[:], want[:]) == 1 {
				tenant = name
			}
		}
		if tenant == "" {
			return newProblem(http.StatusUnauthorized, typeUnauthorized, "The API key is not valid.")
		}
		c.Set(tenantKey, tenant)
		return next(c)
	}
}

func tenantOf(c echo.Context) string {
	t, _ := c.Get(tenantKey).(string)
	return t
}

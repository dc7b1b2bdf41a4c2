package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/hibiken/asynqmon"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// monitoringRoot is where asynqmon is mounted.
const monitoringRoot = "/monitoring"

// monitoringEnabled reports whether /monitoring/ is served: with an admin
// key, to the admin only; without one, only when there are no tenants
// either (one anonymous tenant may see every queue).
func (s *Server) monitoringEnabled() bool {
	return s.cfg.AdminKey != "" || len(s.cfg.APIKeys) == 0
}

// sharedConn hands asynqmon the server's Redis client instead of a new
// connection pool built from a URL, so it reaches Redis exactly as the API
// does (single node, Sentinel or Cluster). asynqmon's Close would close
// that client; the server never calls it.
type sharedConn struct{ rdb redis.UniversalClient }

func (c sharedConn) MakeRedisClient() any { return c.rdb }

// mountMonitoring mounts asynqmon at /monitoring/ behind adminOnly.
func (s *Server) mountMonitoring(e *echo.Echo) {
	if !s.monitoringEnabled() {
		return // unrouted: 404
	}
	mon := asynqmon.New(asynqmon.Options{RootPath: monitoringRoot, RedisConnOpt: sharedConn{s.store.Redis()}})
	h := echo.WrapHandler(mon)
	e.Any(monitoringRoot, func(c echo.Context) error {
		return c.Redirect(http.StatusFound, monitoringRoot+"/")
	}, s.adminOnly)
	e.Any(monitoringRoot+"/*", h, s.adminOnly)
}

// adminOnly lets through requests with the admin key, as a bearer key or
// as the password of HTTP Basic auth (any user name), so that a browser
// can prompt for it. Without an admin key everyone passes (monitoring is
// then only mounted when there are no tenants). Requests that change
// something must also come from the same origin: a browser sends Basic
// credentials along with cross-site requests by itself.
func (s *Server) adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.AdminKey != "" && !s.isAdmin(c.Request()) {
			return monitoringUnauthorized(c)
		}
		if !safeMethod(c.Request().Method) && !sameOrigin(c.Request()) {
			return newProblem(http.StatusForbidden, "forbidden", "Changes through monitoring must come from its own pages.")
		}
		return next(c)
	}
}

func (s *Server) isAdmin(r *http.Request) bool {
	var given string
	if _, password, ok := r.BasicAuth(); ok {
		given = password
	} else if scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " "); ok && strings.EqualFold(scheme, "Bearer") {
		given = token
	}
	if given == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(s.cfg.AdminKey))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// monitoringUnauthorized answers 401 with a Basic challenge, so that a
// browser asks for the admin key (as the password).
func monitoringUnauthorized(c echo.Context) error {
	h := c.Response().Header()
	h.Add("WWW-Authenticate", `Basic realm="crunch monitoring", charset="UTF-8"`)
	h.Add("WWW-Authenticate", `Bearer realm="crunch monitoring"`)
	h.Set(echo.HeaderContentType, "application/problem+json")
	p := newProblem(http.StatusUnauthorized, typeUnauthorized,
		"Monitoring needs the admin key: Authorization: Bearer <admin key>, or Basic auth with the admin key as password.")
	return c.JSON(http.StatusUnauthorized, p)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether a request comes from a page of this server,
// or from no page at all (curl and scripts send neither header).
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

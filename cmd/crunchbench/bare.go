package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// serveBare is the anchor crunch's submit path is compared with: an Echo
// handler that reads and parses the body and makes one asynq Enqueue, and
// nothing else. It runs as its own process, like the api.
func serveBare(redisURL, addr, queue string) error {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	client := asynq.NewClientFromRedisClient(rdb)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/v1/jobs", func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		info, err := client.EnqueueContext(c.Request().Context(), asynq.NewTask("bare", body), asynq.Queue(queue))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, map[string]string{"id": info.ID})
	})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); _ = e.Close() }()
	if err := e.Start(addr); err != nil && err != http.ErrServerClosed {
		return fmt.Errorf("bare handler: %w", err)
	}
	return nil
}

package client

import "github.com/crunchjobs/crunch/crunchtype"

// The API's objects, defined once in package crunchtype and shared with
// the server, so client and server cannot drift apart.
type (
	JobRequest  = crunchtype.JobRequest
	Webhook     = crunchtype.Webhook
	Status      = crunchtype.Status
	Job         = crunchtype.Job
	ChunkCounts = crunchtype.ChunkCounts
	Chunk       = crunchtype.Chunk
	Delivery    = crunchtype.Delivery
	Kernel      = crunchtype.Kernel
	JobPage     = crunchtype.JobPage
	Problem     = crunchtype.Problem
	FieldError  = crunchtype.FieldError
)

// The statuses. A job ends succeeded, failed or canceled.
const (
	StatusQueued    = crunchtype.StatusQueued
	StatusRunning   = crunchtype.StatusRunning
	StatusSucceeded = crunchtype.StatusSucceeded
	StatusFailed    = crunchtype.StatusFailed
	StatusCanceled  = crunchtype.StatusCanceled
)

// ListOptions filter and page GET /v1/jobs; zero fields are left out.
type ListOptions struct {
	Status Status
	Kernel string
	Limit  int    // 1–1000; the server's default is 50
	Cursor string // NextCursor of the previous page
}

// Package crunchtype holds the types of crunch's HTTP API as they travel
// on the wire: the Job, Chunk, Delivery and Kernel objects, the create-job
// request, and the RFC 9457 problem that is both every HTTP error and a
// failed job's error.
//
// The server renders these types and package client parses them, so the
// two cannot drift apart: there is one definition of each. The package
// imports nothing of crunch; the server's bookkeeping (a job's tenant,
// deadline, extent …) lives in its own types that embed these.
package crunchtype

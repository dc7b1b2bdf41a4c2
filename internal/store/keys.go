package store

// Every Redis key and pub/sub channel of the store, in one place. All keys
// of one job share the hash tag {id}, so that each script on a job touches
// one hash slot (Redis Cluster); the other keys are each used alone or in
// pipelines, never together in one script.

type jobKeys struct {
	job, input, chunks, done, partials, artifact string
}

func (s *Store) keys(id string) jobKeys {
	base := s.cfg.Namespace + ":job:{" + id + "}"
	return jobKeys{
		job:      base,
		input:    base + ":input",
		chunks:   base + ":chunks",
		done:     base + ":done",
		partials: base + ":partials",
		artifact: base + ":artifact",
	}
}

func (k jobKeys) all() []string {
	return []string{k.job, k.chunks, k.done, k.partials, k.input, k.artifact, k.job + ":deliveries"}
}

func (s *Store) pendingKey() string { return s.cfg.Namespace + ":pending" }

func (s *Store) tenantKey(tenant string) string {
	return s.cfg.Namespace + ":tenant:" + tenant + ":jobs"
}

func (s *Store) totalsKey() string { return s.cfg.Namespace + ":finished" }

func (s *Store) activeKey(tenant string) string {
	return s.cfg.Namespace + ":tenant:" + tenant + ":active"
}

func (s *Store) idempotencyKey(tenant, keyHash string) string {
	return s.cfg.Namespace + ":idem:" + tenant + ":" + keyHash
}

// Every liveness key carries the hash tag {workers}, so that forgetWorker
// and Retire, which touch several of them at once, stay in one Redis
// Cluster hash slot.
func (s *Store) workersKey() string { return s.cfg.Namespace + ":{workers}" }

func (s *Store) aliveKey(worker string) string {
	return s.cfg.Namespace + ":{workers}:" + worker + ":alive"
}

func (s *Store) runningKey(worker string) string {
	return s.cfg.Namespace + ":{workers}:" + worker + ":chunks"
}

// infoKey is what a worker announces of itself (GET /v1/workers).
func (s *Store) infoKey(worker string) string {
	return s.cfg.Namespace + ":{workers}:" + worker + ":info"
}

func (s *Store) sweeperKey() string { return s.cfg.Namespace + ":sweeper" }

// EventsChannel is the pub/sub channel on which a job's changes are
// announced; the payload is the event kind. Subscribers re-read the job,
// so a lost message costs freshness, never correctness.
func (s *Store) EventsChannel(id string) string {
	return s.cfg.Namespace + ":events:{" + id + "}"
}

// CancelChannel announces jobs that ended early (canceled or timed out),
// so workers stop their running chunks at once; the payload is the job id.
func (s *Store) CancelChannel() string { return s.cfg.Namespace + ":cancel" }

func (s *Store) deliveriesKey(id string) string { return s.keys(id).job + ":deliveries" }

package vrrp

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/healthcheck"
)

// NotifyRun is one finished notify script run, for the status.
type NotifyRun struct {
	Argv     []string      `json:"argv"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration_ns"`
	Err      string        `json:"err,omitempty"` // "" = exit status 0
}

// Notifier runs notify scripts one at a time, in the order they were
// queued, never concurrently (keepalived runs them concurrently and out of
// order: #1055, #996). Each run has its timeout, after which its process
// group is killed; the runner is misc_check's (no shell, own process group,
// optional user). Queueing never blocks, so a slow script never delays an
// advert. One Notifier serves a whole daemon.
type Notifier struct {
	log *slog.Logger
	// run runs one script (tests inject a recorder).
	run func(ctx context.Context, argv []string, timeout time.Duration, user string) error

	mu      sync.Mutex
	queue   []notifyJob
	wake    chan struct{}
	running bool
	idle    *sync.Cond
}

type notifyJob struct {
	argv    []string
	timeout time.Duration
	user    string
	done    func(NotifyRun)
}

// NewNotifier returns a notifier; Run starts it.
func NewNotifier(log *slog.Logger) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{log: log, run: runScript, wake: make(chan struct{}, 1)}
	n.idle = sync.NewCond(&n.mu)
	return n
}

func runScript(ctx context.Context, argv []string, timeout time.Duration, user string) error {
	m := &healthcheck.MiscChecker{Argv: argv, Timeout: timeout, User: user, Label: "notify"}
	return m.Check(ctx)
}

// notifyArgs are keepalived's arguments of the generic notify script.
func notifyArgs(kind, name string, s string, prio uint8) []string {
	return []string{kind, name, s, strconv.Itoa(int(prio))}
}

// Transition queues the scripts of n for a move to state s ("MASTER",
// "BACKUP", "FAULT", "STOP"): the state's own script first, then the
// generic one with "INSTANCE|GROUP name state priority" appended, as
// keepalived. done, if not nil, is called after each run.
func (q *Notifier) Transition(n conf.Notify, kind, name, s string, prio uint8, done func(NotifyRun)) {
	if q == nil {
		return
	}
	var own []string
	switch s {
	case "MASTER":
		own = n.Master
	case "BACKUP":
		own = n.Backup
	case "FAULT":
		own = n.Fault
	case "STOP":
		own = n.Stop
	}
	q.mu.Lock()
	if own != nil {
		q.queue = append(q.queue, notifyJob{argv: own, timeout: n.Timeout, user: n.User, done: done})
	}
	if n.Generic != nil {
		argv := append(append([]string(nil), n.Generic...), notifyArgs(kind, name, s, prio)...)
		q.queue = append(q.queue, notifyJob{argv: argv, timeout: n.Timeout, user: n.User, done: done})
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run runs queued scripts until ctx is done, then finishes the queue (the
// notify_stop scripts of the instances that just stopped), each still bounded
// by its timeout.
func (q *Notifier) Run(ctx context.Context) {
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.idle.Broadcast()
			q.mu.Unlock()
			select {
			case <-ctx.Done():
				q.drain()
				return
			case <-q.wake:
			}
			continue
		}
		j := q.queue[0]
		q.queue = q.queue[1:]
		q.running = true
		q.mu.Unlock()
		q.exec(j)
		q.mu.Lock()
		q.running = false
		q.mu.Unlock()
	}
}

func (q *Notifier) drain() {
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.idle.Broadcast()
			q.mu.Unlock()
			return
		}
		j := q.queue[0]
		q.queue = q.queue[1:]
		q.mu.Unlock()
		q.exec(j)
	}
}

func (q *Notifier) exec(j notifyJob) {
	start := time.Now()
	timeout := j.timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	// The timeout is the script's own bound; no outer context: a stopping
	// daemon still runs notify_stop to completion (or its timeout).
	err := q.run(context.Background(), j.argv, timeout, j.user)
	r := NotifyRun{Argv: j.argv, At: start, Duration: time.Since(start)}
	if err != nil {
		r.Err = err.Error()
		q.log.Warn("vrrp notify script failed", "script", j.argv[0], "err", err)
	} else {
		q.log.Info("vrrp notify script ran", "script", j.argv[0], "args", j.argv[1:])
	}
	if j.done != nil {
		j.done(r)
	}
}

// Wait blocks until the queue is empty and nothing runs (tests, shutdown).
func (q *Notifier) Wait() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) > 0 || q.running {
		q.idle.Wait()
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/lvsd/lvsd/conf"
	"github.com/lvsd/lvsd/rules"
)

// agent is `lvsd agent` on a real server: it keeps one nat REDIRECT rule per
// VIP so direct-routing traffic addressed to the VIP is accepted locally.
type agent struct {
	log  *slog.Logger
	opts *daemonOptions

	mu      sync.Mutex
	cfg     *conf.Config
	started time.Time

	rules  *rules.Agent
	cancel context.CancelFunc
	done   chan struct{}
}

func newAgent(cfg *conf.Config, o *daemonOptions, log *slog.Logger) *agent {
	return &agent{log: log, opts: o, cfg: cfg}
}

func (a *agent) Start(ctx context.Context) error {
	r, err := rules.New(a.cfg.Agent.VIPs, a.log)
	if err != nil {
		return fmt.Errorf("rules: %w", err)
	}
	a.rules = r
	a.started = time.Now()
	ctx, a.cancel = context.WithCancel(ctx)
	a.done = make(chan struct{})
	go func() {
		defer close(a.done)
		if err := r.Run(ctx, a.opts.rulesInterval); err != nil {
			a.log.Error("rules stopped", "err", err)
		}
	}()
	return nil
}

func (a *agent) Reload(cfg *conf.Config) ([]string, error) {
	a.mu.Lock()
	old := a.cfg
	a.cfg = cfg
	a.mu.Unlock()
	if slices.Equal(old.Agent.VIPs, cfg.Agent.VIPs) {
		return nil, nil
	}
	a.rules.SetVIPs(cfg.Agent.VIPs)
	return []string{fmt.Sprintf("vips %v -> %v", old.Agent.VIPs, cfg.Agent.VIPs)}, nil
}

// Stop removes the rules (Run does it when its context ends).
func (a *agent) Stop() {
	if a.cancel == nil {
		return
	}
	a.cancel()
	<-a.done
}

func (a *agent) Status() statusDoc {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := statusDoc{Mode: string(modeAgent), Version: version, Started: a.started}
	if a.rules != nil {
		st.Rules = a.rules.Status()
	}
	return st
}

package main

import (
	"context"
	"log/slog"
	"time"

	sdd "github.com/coreos/go-systemd/v22/daemon"
)

// notifier speaks systemd's sd_notify protocol (Type=notify units). Every
// call is a no-op when NOTIFY_SOCKET is unset, so the daemon behaves the
// same outside systemd.
type notifier struct {
	log *slog.Logger
}

func (n notifier) send(state string) {
	ok, err := sdd.SdNotify(false, state)
	if err != nil {
		n.log.Warn("sd_notify", "state", state, "err", err)
		return
	}
	if ok {
		n.log.Debug("sd_notify", "state", state)
	}
}

// ready: start-up finished (READY=1), or a reload finished.
func (n notifier) ready(status string) { n.send(sdd.SdNotifyReady + "\nSTATUS=" + status) }

// reloading: a reload started. MONOTONIC_USEC lets systemd (>= 253, and
// Type=notify-reload) match it with the READY=1 that ends it.
func (n notifier) reloading() {
	n.send(sdd.SdNotifyReloading + "\n" + sdd.SdNotifyMonotonicUsec())
}

// stopping: a graceful stop started.
func (n notifier) stopping() { n.send(sdd.SdNotifyStopping) }

// watchdog pings WATCHDOG=1 at half of WATCHDOG_USEC (as sd_watchdog_enabled
// advises) until ctx ends. Each ping first asks alive, with the watchdog
// period as deadline: a daemon whose state lock is stuck stops pinging and
// systemd restarts it, instead of a goroutine pinging for a dead process.
func (n notifier) watchdog(ctx context.Context, alive func()) {
	period, err := sdd.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("sd_notify watchdog", "err", err)
		return
	}
	if period <= 0 {
		return
	}
	t := time.NewTicker(period / 2)
	defer t.Stop()
	for {
		done := make(chan struct{})
		go func() { alive(); close(done) }()
		select {
		case <-ctx.Done():
			return
		case <-done:
			n.send(sdd.SdNotifyWatchdog)
		case <-time.After(period):
			n.log.Error("watchdog: daemon state unresponsive; not pinging systemd", "period", period)
			<-done // wait here: never more than one alive call in flight
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

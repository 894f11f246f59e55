package vrrp

import "context"

// LinkWatcher reports the link state of interfaces: up means
// administratively up and running (IFF_UP and IFF_RUNNING, carrier
// present), keepalived's test for track_interface. The Linux implementation
// subscribes to netlink link updates; tests use a fake.
type LinkWatcher interface {
	// Watch subscribes first, then reads the current state of each name (a
	// missing interface is down) so that no change between the two is lost;
	// afterwards it calls f from its own goroutine on every change of a
	// watched name until ctx is done. f must not block for long.
	Watch(ctx context.Context, names []string, f func(name string, up bool)) (initial map[string]bool, err error)
}

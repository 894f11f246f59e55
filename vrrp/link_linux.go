package vrrp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netlinkLinks is the LinkWatcher of the host: RTM_NEWLINK/RTM_DELLINK
// through vishvananda/netlink's LinkSubscribe.
type netlinkLinks struct{}

func newLinkWatcher() LinkWatcher { return netlinkLinks{} }

// pollEvery is the link polling period once the netlink subscription failed.
const pollEvery = time.Second

func linkUp(rawFlags uint32) bool {
	return rawFlags&unix.IFF_UP != 0 && rawFlags&unix.IFF_RUNNING != 0
}

func (netlinkLinks) Watch(ctx context.Context, names []string, f func(string, bool)) (map[string]bool, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	ch := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	// A receive error (ENOBUFS after a burst of link events) ends the
	// subscription and closes ch; the loop then polls instead, so tracking
	// never silently freezes.
	err := netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{ErrorCallback: func(error) {}})
	if err != nil {
		return nil, fmt.Errorf("netlink link subscribe: %w", err)
	}
	state := map[string]bool{}
	for n := range want {
		l, err := netlink.LinkByName(n)
		var nf netlink.LinkNotFoundError
		switch {
		case errors.As(err, &nf):
			state[n] = false
		case err != nil:
			close(done)
			return nil, fmt.Errorf("link %s: %w", n, err)
		default:
			state[n] = linkUp(l.Attrs().RawFlags)
		}
	}
	initial := make(map[string]bool, len(state))
	for k, v := range state {
		initial[k] = v
	}
	go func() {
		defer close(done)
		var poll <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case <-poll:
				for n := range want {
					up := false
					if l, err := netlink.LinkByName(n); err == nil {
						up = linkUp(l.Attrs().RawFlags)
					}
					if up != state[n] {
						state[n] = up
						f(n, up)
					}
				}
			case u, ok := <-ch:
				if !ok {
					ch = nil
					t := time.NewTicker(pollEvery)
					defer t.Stop()
					poll = t.C
					continue
				}
				name := u.Attrs().Name
				if !want[name] {
					continue
				}
				up := u.Header.Type != unix.RTM_DELLINK && linkUp(u.IfInfomsg.Flags)
				if up != state[name] {
					state[name] = up
					f(name, up)
				}
			}
		}
	}()
	return initial, nil
}

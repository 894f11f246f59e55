package vrrp

import (
	"context"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// netlinkLinks is the LinkWatcher of the host: RTM_NEWLINK/RTM_DELLINK
// through vishvananda/netlink's LinkSubscribe.
type netlinkLinks struct{}

func newLinkWatcher() LinkWatcher { return netlinkLinks{} }

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
	errs := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(ch, done, netlink.LinkSubscribeOptions{
		ErrorCallback: func(err error) {
			select {
			case errs <- err:
			default:
			}
		},
	})
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
		for {
			select {
			case <-ctx.Done():
				return
			case u, ok := <-ch:
				if !ok {
					return
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

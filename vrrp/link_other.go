//go:build !linux

package vrrp

import (
	"context"
	"errors"
)

type noLinks struct{}

func (noLinks) Watch(context.Context, []string, func(string, bool)) (map[string]bool, error) {
	return nil, errors.New("vrrp: link tracking needs Linux")
}

func newLinkWatcher() LinkWatcher { return noLinks{} }

//go:build !linux

package vrrp

import "errors"

func newInotifyWatcher() (fileWatcher, error) {
	return nil, errors.New("vrrp_track_file needs inotify (Linux)")
}

func listProcs(map[string]bool, bool) ([]procInfo, error) {
	return nil, errors.New("vrrp_track_process needs /proc (Linux)")
}

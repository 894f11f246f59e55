//go:build !linux

package ipvs

import "errors"

// StartSyncDaemon fails: IPVS exists only on Linux.
func (*Netlink) StartSyncDaemon(SyncDaemon) error { return errors.ErrUnsupported }

// StopSyncDaemon fails: IPVS exists only on Linux.
func (*Netlink) StopSyncDaemon(SyncState) error { return errors.ErrUnsupported }

// SyncDaemons fails: IPVS exists only on Linux.
func (*Netlink) SyncDaemons() ([]SyncDaemon, error) { return nil, errors.ErrUnsupported }

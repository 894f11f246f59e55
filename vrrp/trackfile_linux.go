package vrrp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// inotifyWatcher watches directories, not files (as keepalived): a file
// replaced by rename (the atomic way to write one) or created later is
// seen, which a watch on the file's inode would miss.
type inotifyWatcher struct {
	f      *os.File
	events chan fileEvent

	mu   sync.Mutex
	dirs map[int]string // watch descriptor -> directory
}

// The events that change what a file in the directory holds: closed
// after writing, moved in or out, deleted. IN_MODIFY is left out so that a
// half-written file is not read, and IN_CREATE too: "echo 5 > f" creates
// f empty first, which would read as a passing 0 (keepalived's choices).
const inotifyMask = unix.IN_CLOSE_WRITE | unix.IN_MOVED_TO | unix.IN_MOVED_FROM | unix.IN_DELETE |
	unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR

func newInotifyWatcher() (fileWatcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	// Non-blocking, so os.File reads through the runtime poller and Close
	// ends a pending read.
	w := &inotifyWatcher{f: os.NewFile(uintptr(fd), "inotify"), events: make(chan fileEvent, 64), dirs: map[int]string{}}
	go w.read()
	return w, nil
}

func (w *inotifyWatcher) Watch(dir string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var wd int
	var err error
	rc, rerr := w.f.SyscallConn()
	if rerr != nil {
		return rerr
	}
	if cerr := rc.Control(func(fd uintptr) {
		wd, err = unix.InotifyAddWatch(int(fd), dir, inotifyMask)
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("inotify_add_watch %s: %w", dir, err)
	}
	w.dirs[wd] = dir
	return nil
}

func (w *inotifyWatcher) Events() <-chan fileEvent { return w.events }

func (w *inotifyWatcher) Close() error { return w.f.Close() }

func (w *inotifyWatcher) read() {
	defer close(w.events)
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				w.events <- fileEvent{} // read everything again
			}
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			w.mu.Lock()
			dir, known := w.dirs[int(ev.Wd)]
			if ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 && known {
				delete(w.dirs, int(ev.Wd))
				if ev.Mask&unix.IN_IGNORED == 0 {
					// The directory is gone or elsewhere: drop the
					// watch, which would follow it to its new name.
					_ = w.rm(int(ev.Wd))
				}
			}
			w.mu.Unlock()
			switch {
			case ev.Mask&unix.IN_Q_OVERFLOW != 0:
				w.events <- fileEvent{}
			case !known:
			case ev.Mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0:
				w.events <- fileEvent{Path: dir, Lost: true}
			case ev.Mask&unix.IN_ISDIR == 0 && len(name) > 0:
				w.events <- fileEvent{Path: filepath.Join(dir, string(name))}
			}
		}
	}
}

// rm removes a watch; w.mu held.
func (w *inotifyWatcher) rm(wd int) error {
	rc, err := w.f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { _, _ = unix.InotifyRmWatch(int(fd), uint32(wd)) })
}

package vrrp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/lvsd/lvsd/conf"
)

// vrrp_track_file (keepalived's track_file): the coordinator reads each
// tracked file when the configuration is applied and again whenever its
// directory reports it written, moved in, moved away or deleted, and hands
// the value to the instances tracking it (FileContribution turns it into
// priority or FAULT).

// maxTrackFileRead is what keepalived reads of a track file (a 128-byte
// buffer); a number is short, and a huge file must not be slurped.
const maxTrackFileRead = 127

// fileRetry is how often a file whose directory could not be watched (it
// does not exist yet, or went away) is tried again.
var fileRetry = 5 * time.Second

// ParseTrackFile is keepalived's reading of a track file's content: C's
// strtol with base 0 (leading white space, a sign, 0x for hex, a leading 0
// for octal, then as many digits as parse; anything after them is
// ignored). Content without a number reads as 0, as keepalived. ok is false
// for a number outside the 32-bit range keepalived accepts (-2^31..2^31):
// keepalived then keeps the previous value, and so do we.
func ParseTrackFile(b []byte) (v int64, ok bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	base := 10
	switch {
	case i+2 < len(b) && b[i] == '0' && (b[i+1] == 'x' || b[i+1] == 'X') && digitVal(b[i+2]) < 16:
		base, i = 16, i+2
	case i < len(b) && b[i] == '0':
		base = 8
	}
	var n uint64
	for ; i < len(b); i++ {
		d := digitVal(b[i])
		if d >= base {
			break
		}
		n = n*uint64(base) + uint64(d)
		if n > math.MaxInt32+1 {
			return 0, false
		}
	}
	v = int64(n)
	if neg {
		v = -v
	}
	return v, v <= math.MaxInt32+1 // -2^31..2^31, keepalived's bounds
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// readTrackFile reads path's value: a missing or unreadable file counts as
// 0 (keepalived: "the file has disappeared, treat as though the value is
// 0"). ok false: keep the previous value (out of range).
func readTrackFile(path string) (v int64, ok bool, err error) {
	// O_NONBLOCK as keepalived: a FIFO at path must not hang the loop.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, true, err
	}
	defer f.Close()
	buf := make([]byte, maxTrackFileRead)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, true, err
	}
	v, ok = ParseTrackFile(buf[:n])
	return v, ok, nil
}

// initTrackFile is keepalived's init_file: write value when the file is
// missing, or always with overwrite (never on a reload: the caller's
// business); a path that exists but is no regular file is left alone.
func initTrackFile(path string, value int64, overwrite bool) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && !overwrite:
		return nil
	case err == nil && !st.Mode().IsRegular():
		return fmt.Errorf("init_file: %s is not a regular file", path)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return os.WriteFile(path, []byte(strconv.FormatInt(value, 10)+"\n"), 0o644)
}

// fileWatcher watches directories for changes to the files in them (behind
// an interface so that the coordinator's logic is tested without inotify).
type fileWatcher interface {
	// Watch watches dir (again after it was lost).
	Watch(dir string) error
	// Events delivers what changed.
	Events() <-chan fileEvent
	Close() error
}

// fileEvent: Path was written, moved in, moved away or deleted; or, with
// Lost, the watch of directory Path is gone (the directory was removed or
// moved) and must be set up again; Path "" means events were lost
// (queue overflow): read every file again.
type fileEvent struct {
	Path string
	Lost bool
}

// fileRun is one tracked file.
type fileRun struct {
	cfg   conf.VRRPTrackFile
	value int64
	err   string // last read error, logged once
}

// applyFiles installs cfg's tracked files; c.mu held. New ones are
// initialised (init_file; overwrite only on the first Apply, as keepalived
// never overwrites on reload) and read now, so that instances start with
// their value; the watch loop then watches their directories.
func (c *Coordinator) applyFiles(cfg *conf.Config) {
	used := map[string]conf.VRRPTrackFile{}
	for _, vi := range cfg.VRRP {
		for _, tf := range vi.TrackFiles {
			used[tf.File.Name] = tf.File
		}
	}
	for name, f := range c.files {
		if w, ok := used[name]; !ok || !sameFile(w, f.cfg) {
			delete(c.files, name)
		}
	}
	added := false
	for name, fc := range used {
		if _, ok := c.files[name]; ok {
			continue
		}
		f := &fileRun{cfg: fc}
		if fc.InitFile {
			if err := initTrackFile(fc.Path, fc.InitValue, fc.InitOverwrite && !c.applied); err != nil {
				c.log.Error("vrrp_track_file init_file failed", "file", name, "path", fc.Path, "err", err)
			}
		}
		c.readFile(f)
		c.files[name] = f
		added = true
	}
	c.applied = true
	if added {
		select {
		case c.filesChanged <- struct{}{}:
		default:
		}
	}
}

func sameFile(a, b conf.VRRPTrackFile) bool {
	a.DeclRange = b.DeclRange
	return a == b
}

// readFile reads f's value into f.value and reports whether it changed;
// c.mu held.
func (c *Coordinator) readFile(f *fileRun) bool {
	v, ok, err := c.readTrack(f.cfg.Path)
	if err != nil {
		if e := err.Error(); e != f.err {
			f.err = e
			c.log.Warn("vrrp_track_file unreadable, counts as 0", "file", f.cfg.Name, "path", f.cfg.Path, "err", err)
		}
	} else {
		f.err = ""
	}
	if !ok {
		c.log.Warn("vrrp_track_file value out of range, ignored", "file", f.cfg.Name, "path", f.cfg.Path)
		return false
	}
	if v == f.value {
		return false
	}
	c.log.Info("vrrp_track_file value", "file", f.cfg.Name, "path", f.cfg.Path, "value", v, "previous", f.value)
	f.value = v
	return true
}

// watchFiles keeps the tracked files' directories watched and pushes new
// values to the instances until ctx is done.
func (c *Coordinator) watchFiles(ctx context.Context) {
	var w fileWatcher
	var events <-chan fileEvent
	watched := map[string]bool{} // directories
	retry := time.NewTicker(fileRetry)
	defer retry.Stop()
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	// sync watches the directories of the tracked files not watched yet,
	// then reads the files (a write between Apply's read and the watch
	// would otherwise be missed).
	sync := func() {
		c.mu.Lock()
		var dirs []string
		for _, f := range c.files {
			if d := filepath.Dir(f.cfg.Path); !watched[d] {
				dirs = append(dirs, d)
			}
		}
		c.mu.Unlock()
		if len(dirs) == 0 {
			return
		}
		if w == nil {
			var err error
			if w, err = c.newWatcher(); err != nil {
				c.log.Error("vrrp_track_file: cannot watch files", "err", err)
				w = nil
				return
			}
			events = w.Events()
		}
		for _, d := range dirs {
			if watched[d] {
				continue
			}
			if err := w.Watch(d); err != nil {
				c.log.Warn("vrrp_track_file: cannot watch directory, retrying", "dir", d, "err", err)
				continue
			}
			watched[d] = true
		}
		c.reread(func(string) bool { return true })
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.filesChanged:
			sync()
		case <-retry.C:
			sync()
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			switch {
			case ev.Lost:
				delete(watched, ev.Path)
				c.reread(func(p string) bool { return filepath.Dir(p) == ev.Path })
			case ev.Path == "":
				c.reread(func(string) bool { return true })
			default:
				c.reread(func(p string) bool { return p == ev.Path })
			}
		}
	}
}

// reread reads the files whose path match selects and pushes changed
// values to the instances.
func (c *Coordinator) reread(match func(path string) bool) {
	type update struct {
		name  string
		value int64
	}
	var ups []update
	c.mu.Lock()
	for name, f := range c.files {
		if match(f.cfg.Path) && c.readFile(f) {
			ups = append(ups, update{name, f.value})
		}
	}
	var insts []*Instance
	if len(ups) > 0 {
		for _, i := range c.insts {
			insts = append(insts, i)
		}
	}
	c.mu.Unlock()
	for _, u := range ups {
		for _, i := range insts {
			i.SetTrackedValue(KindFile, u.name, u.value)
		}
	}
}

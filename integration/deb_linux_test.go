//go:build integration

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// debArch is Debian's name for the architecture Go builds for.
func debArch() string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	}
	return runtime.GOARCH
}

func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = nil // dpkg must never wait for an answer
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDebVersion checks the Debian version derived from git describe:
// dpkg accepts it and orders it as the commits go.
func TestDebVersion(t *testing.T) {
	script := filepath.Join("..", "packaging", "deb", "build-deb.sh")
	cases := []struct{ describe, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-5-gabc1234", "1.2.3+5.gabc1234"},
		{"v1.2.3-5-gabc1234-dirty", "1.2.3+5.gabc1234.dirty"},
		{"v2.0.0-rc1", "2.0.0~rc1"},
		{"cbdff83", "0.0.0+git42.gcbdff83"},
		{"6dc6237-dirty", "0.0.0+git42.g6dc6237.dirty"},
		{"dev", "0.0.0+dev"},
	}
	for _, c := range cases {
		got := strings.TrimSpace(runCmd(t, script, "--debian-version", c.describe, "42"))
		if got != c.want {
			t.Errorf("%q: version %q, want %q", c.describe, got, c.want)
		}
		runCmd(t, "dpkg", "--validate-version", got)
	}
	// Order: an rc before its release, the release before later commits,
	// later commits in order.
	for _, pair := range [][2]string{{"2.0.0~rc1", "2.0.0"}, {"1.2.3", "1.2.3+5.gabc1234"}, {"1.2.3+5.gabc1234", "1.2.3+12.g0000000"}, {"0.0.0+git42.gcbdff83", "0.0.0+git43.g0123456"}} {
		runCmd(t, "dpkg", "--compare-versions", pair[0], "lt", pair[1])
	}
}

// TestDeb builds the package with `make deb`, checks its control data and
// contents, installs it into a throwaway root with dpkg, runs the installed
// binary on the installed configs, and checks that an operator's edit of a
// config survives a reinstall and a removal (conffiles).
func TestDeb(t *testing.T) {
	for _, tool := range []string{"make", "dpkg", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	tmp := t.TempDir()
	// BIN keeps the build out of the checkout's bin/, which other tiers
	// may be running.
	out := runCmd(t, "make", "-C", "..", "--no-print-directory", "deb", "BIN="+filepath.Join(tmp, "bin"), "DEB_OUT="+tmp)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	deb := lines[len(lines)-1]
	if !strings.HasPrefix(deb, tmp+"/lvsd_") || !strings.HasSuffix(deb, "_"+debArch()+".deb") {
		t.Fatalf("make deb did not print the package path last:\n%s", out)
	}

	info := runCmd(t, "dpkg-deb", "--info", deb)
	t.Logf("dpkg-deb --info:\n%s", info)
	field := func(name string) string {
		m := regexp.MustCompile(`(?m)^ ` + name + `: (.*)$`).FindStringSubmatch(info)
		if m == nil {
			t.Errorf("control has no %s field", name)
			return ""
		}
		return m[1]
	}
	if v := field("Package"); v != "lvsd" {
		t.Errorf("Package %q", v)
	}
	version := field("Version")
	runCmd(t, "dpkg", "--validate-version", version)
	if v := field("Architecture"); v != debArch() {
		t.Errorf("Architecture %q, want %q", v, debArch())
	}
	if v := field("Depends"); !regexp.MustCompile(`(^|, )iptables(,|$)`).MatchString(v) {
		t.Errorf("Depends %q lacks iptables", v)
	}
	if v := field("Recommends"); !strings.Contains(v, "ipvsadm") {
		t.Errorf("Recommends %q lacks ipvsadm", v)
	}
	field("Maintainer")
	field("Description")
	for _, s := range []string{"postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(info, " "+s) {
			t.Errorf("control archive lacks %s", s)
		}
	}
	if conffiles := runCmd(t, "dpkg-deb", "--info", deb, "conffiles"); conffiles != "/etc/lvsd/agent.hcl\n/etc/lvsd/director.hcl\n" {
		t.Errorf("conffiles:\n%s", conffiles)
	}

	contents := runCmd(t, "dpkg-deb", "--contents", deb)
	for _, want := range []string{
		`-rwxr-xr-x root/root .* \./usr/sbin/lvsd`,
		`-rw-r--r-- root/root .* \./lib/systemd/system/lvsd-director\.service`,
		`-rw-r--r-- root/root .* \./lib/systemd/system/lvsd-agent\.service`,
		// The example director config carries an auth_pass: root only.
		`-rw------- root/root .* \./etc/lvsd/director\.hcl`,
		`-rw------- root/root .* \./etc/lvsd/agent\.hcl`,
		`-rw-r--r-- root/root .* \./usr/share/doc/lvsd/configuration\.md`,
		`-rw-r--r-- root/root .* \./usr/share/doc/lvsd/operations\.md`,
	} {
		if !regexp.MustCompile(`(?m)^` + want + `$`).MatchString(contents) {
			t.Errorf("dpkg-deb --contents lacks %s:\n%s", want, contents)
		}
	}

	if _, err := exec.LookPath("lintian"); err == nil {
		// Warnings are informative (no PIE: the Makefile builds the
		// default Go executable); errors fail.
		lo, _ := exec.Command("lintian", "--tag-display-limit", "0", deb).CombinedOutput()
		t.Logf("lintian:\n%s", lo)
		if regexp.MustCompile(`(?m)^E: `).Match(lo) {
			t.Errorf("lintian reports errors:\n%s", lo)
		}
	} else {
		t.Log("lintian not installed; skipped")
	}

	// A throwaway root with an empty dpkg database. The maintainer scripts
	// run on this host with DPKG_ROOT set (--force-script-chrootless) and
	// must leave this system's systemd alone.
	root := filepath.Join(tmp, "root")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/log"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dpkg := func(args ...string) string {
		t.Helper()
		// iptables is not in the empty root: only the dependency check is
		// forced, nothing else.
		base := []string{"--root=" + root, "--log=" + filepath.Join(root, "var/log/dpkg.log"),
			"--force-not-root", "--force-script-chrootless", "--force-depends"}
		return runCmd(t, "dpkg", append(base, args...)...)
	}
	t.Logf("dpkg -i:\n%s", dpkg("-i", deb))
	status := runCmd(t, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f", "${Status} ${Version}", "lvsd")
	if status != "install ok installed "+version {
		t.Errorf("dpkg-query: %q", status)
	}
	lvsd := filepath.Join(root, "usr/sbin/lvsd")
	// The package's version is the binary's own (git describe), in
	// Debian's spelling.
	v := strings.TrimSpace(runCmd(t, lvsd, "version"))
	t.Logf("installed lvsd version: %s", v)
	describe := strings.TrimPrefix(v, "lvsd ")
	commits := strings.TrimSpace(runCmd(t, "git", "rev-list", "--count", "HEAD"))
	if dv := strings.TrimSpace(runCmd(t, filepath.Join("..", "packaging", "deb", "build-deb.sh"), "--debian-version", describe, commits)); describe == v || dv != version {
		t.Errorf("installed binary says %q (Debian %q), package version %q", v, dv, version)
	}
	for _, f := range []string{"director.hcl", "agent.hcl"} {
		runCmd(t, lvsd, "check", "-f", filepath.Join(root, "etc/lvsd", f))
	}
	// The installed unit runs the installed binary on the installed config.
	unit, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/lvsd-director.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"usr/share/doc/lvsd/copyright", "usr/share/doc/lvsd/changelog.gz"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("policy file: %v", err)
		}
	}
	if !strings.Contains(string(unit), "ExecStart=/usr/sbin/lvsd director -f /etc/lvsd/director.hcl") {
		t.Errorf("lvsd-director.service does not run /usr/sbin/lvsd on /etc/lvsd/director.hcl:\n%s", unit)
	}

	// The operator edits the config: a reinstall keeps the edit (dpkg asks
	// nothing: the package's version of the file did not change), and so
	// does a removal.
	conf := filepath.Join(root, "etc/lvsd/director.hcl")
	edited := "# edited by the operator\n" + readFile(t, conf)
	if err := os.WriteFile(conf, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	dpkg("-i", deb)
	if readFile(t, conf) != edited {
		t.Error("reinstalling the package overwrote the operator's /etc/lvsd/director.hcl")
	}
	dpkg("-r", "lvsd")
	if _, err := os.Stat(lvsd); !os.IsNotExist(err) {
		t.Errorf("lvsd still installed after dpkg -r: %v", err)
	}
	if readFile(t, conf) != edited {
		t.Error("dpkg -r removed or changed the operator's /etc/lvsd/director.hcl")
	}
	dpkg("-P", "lvsd")
	if _, err := os.Stat(conf); !os.IsNotExist(err) {
		t.Errorf("purge left %s (%v)", conf, err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDebMaintainerScripts runs the maintainer scripts as dpkg would on a
// systemd host (a private mount namespace with /run/systemd/system, and
// systemctl and deb-systemd-invoke replaced by recorders) and checks the
// promise: they reload systemd's view of the units and never enable,
// start or restart one; only a removal stops them. With DPKG_ROOT (an
// install into another root) they leave this host's systemd alone.
func TestDebMaintainerScripts(t *testing.T) {
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed")
	}
	if _, err := os.Stat("/etc/systemd/system"); err != nil {
		t.Skipf("no systemd here: %v", err)
	}
	dir := t.TempDir()
	log := filepath.Join(dir, "calls")
	for _, tool := range []string{"systemctl", "deb-systemd-invoke"} {
		// is-active answers "running", so the upgrade note is printed.
		shim := "#!/bin/sh\necho \"" + tool + " $*\" >>\"$CALLS\"\n"
		if err := os.WriteFile(filepath.Join(dir, tool), []byte(shim), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	scripts, err := filepath.Abs(filepath.Join("..", "packaging", "deb"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		script   string
		args     []string
		dpkgRoot string
		want     []string
	}{
		{"postinst", []string{"configure"}, "", []string{"systemctl daemon-reload", "systemctl is-active --quiet lvsd-director.service", "systemctl is-active --quiet lvsd-agent.service"}},
		{"postinst", []string{"configure", "0.0.0+git1.gabcdef0"}, "", []string{"systemctl daemon-reload", "systemctl is-active --quiet lvsd-director.service", "systemctl is-active --quiet lvsd-agent.service"}},
		{"postinst", []string{"configure"}, dir, nil},
		{"prerm", []string{"upgrade", "1.0"}, "", nil},
		{"prerm", []string{"remove"}, "", []string{"deb-systemd-invoke stop lvsd-director.service lvsd-agent.service"}},
		{"prerm", []string{"remove"}, dir, nil},
		{"postrm", []string{"upgrade", "1.0"}, "", nil},
		{"postrm", []string{"remove"}, "", []string{"systemctl daemon-reload"}},
		{"postrm", []string{"purge"}, "", []string{"systemctl daemon-reload"}},
	}
	for _, c := range cases {
		name := c.script + " " + strings.Join(c.args, " ")
		if c.dpkgRoot != "" {
			name += " (DPKG_ROOT)"
		}
		t.Run(name, func(t *testing.T) {
			os.Remove(log)
			// The tmpfs mounts exist only in the private namespace: the
			// host's /run and /etc/systemd/system are never touched. An
			// operator's enablement links are there for purge to remove.
			args := append([]string{"--mount", "--propagation", "private", "sh", "-c", `set -e
mount -t tmpfs lvsd-test /run
mkdir -p /run/systemd/system
mount -t tmpfs lvsd-test /etc/systemd/system
mkdir /etc/systemd/system/multi-user.target.wants
ln -s /lib/systemd/system/lvsd-director.service /etc/systemd/system/multi-user.target.wants/
"$0" "$@"
ls /etc/systemd/system/multi-user.target.wants | sed 's/^/wants: /'`,
				filepath.Join(scripts, c.script)}, c.args...)
			cmd := exec.Command("unshare", args...)
			cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"), "CALLS="+log, "DPKG_ROOT="+c.dpkgRoot)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var calls []string
			if b, err := os.ReadFile(log); err == nil {
				calls = strings.Split(strings.TrimSpace(string(b)), "\n")
			}
			if strings.Join(calls, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(calls, "\n"), strings.Join(c.want, "\n"))
			}
			for _, call := range calls {
				for _, bad := range []string{" start", " restart", " enable", " reload-or-restart", " try-restart"} {
					if strings.Contains(call, bad) {
						t.Errorf("maintainer script ran %q", call)
					}
				}
			}
			kept := strings.Contains(string(out), "wants: lvsd-director.service")
			if purge := c.script == "postrm" && c.args[0] == "purge"; kept == purge {
				t.Errorf("enablement link kept %v after %s:\n%s", kept, name, out)
			}
			if c.script == "postinst" && c.dpkgRoot == "" && !strings.Contains(string(out), "restart it when convenient") {
				t.Errorf("postinst with running units does not tell the operator to restart them:\n%s", out)
			}
		})
	}
}

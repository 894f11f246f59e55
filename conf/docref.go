package conf

// The configuration reference: one entry per block and per attribute of the
// language. docs/configuration.md is generated from it (make docs), and
// TestDocRegistryMatchesSchemas fails when an entry is missing for something
// the schemas accept, or names something they do not.
//
// Adding an attribute to a schema means adding one AttrDoc literal here, in
// the block's group below; adding a block means a BlockDoc literal (and its
// body schema in bodySchemas, conf/docschema.go). Then run make docs.
//
// The entries are held to the decoder by TestDocRequiredAndDefaults: a
// Default written as a literal ("`5`", `"1s"`, "`0` (off)") must parse to
// the same configuration as leaving the attribute out, and an attribute
// documented as required must really be (a new required attribute needs a
// sample value in docSamples, conf/docref_test.go). Prose defaults ("the
// virtual server's") are not checked.

// BlockDoc documents one block.
type BlockDoc struct {
	Path       string // as in SchemaBlock.Path
	Keepalived string // the keepalived equivalent, "" if none
	Count      string // how many may appear: "one", "any number", "at most one"
	Desc       string // markdown, one or a few sentences
}

// AttrDoc documents one attribute of one block, or of every block in a group
// (Block "@checkers": see docGroups).
type AttrDoc struct {
	Block      string // a block path, or "@group"
	Name       string
	Type       string // string, number, bool, duration, list of strings, ...
	Default    string // markdown; "required" when it must be set
	Keepalived string // the keepalived keyword, "" if lvsd only
	Desc       string // markdown, one line
}

// Types used in AttrDoc.Type; "duration" is explained in the generated doc.
const (
	tString   = "string"
	tNumber   = "number"
	tBool     = "bool"
	tDuration = "duration"
	tStrings  = "list of strings"
	tAddrPort = "string (`IP:PORT`)"
	required  = "required"
)

const rsPath = "virtual_server.real_server"

// docGroups names sets of blocks sharing attributes.
var docGroups = map[string][]string{
	// Every checker.
	"@checkers": {rsPath + ".tcp_check", rsPath + ".mysql_check", rsPath + ".http_get", rsPath + ".ssl_get", rsPath + ".misc_check",
		rsPath + ".udp_check", rsPath + ".dns_check"},
	// Checkers whose retry defaults to 1: all but dns_check (3, as
	// keepalived's DNS_CHECK).
	"@retry1": {rsPath + ".tcp_check", rsPath + ".mysql_check", rsPath + ".http_get", rsPath + ".ssl_get", rsPath + ".misc_check",
		rsPath + ".udp_check"},
	// Checkers that connect to the real server.
	"@connecting": {rsPath + ".tcp_check", rsPath + ".mysql_check", rsPath + ".http_get", rsPath + ".ssl_get",
		rsPath + ".udp_check", rsPath + ".dns_check"},
	// The notify scripts of an instance or a sync group.
	"@notify": {"vrrp_instance", "vrrp_sync_group"},
	// Tracking references, of an instance or of a sync group.
	"@track_interface": {"vrrp_instance.track_interface", "vrrp_sync_group.track_interface"},
	"@track_script":    {"vrrp_instance.track_script", "vrrp_sync_group.track_script"},
	"@track_file":      {"vrrp_instance.track_file", "vrrp_sync_group.track_file"},
	"@track_process":   {"vrrp_instance.track_process", "vrrp_sync_group.track_process"},
	// HTTP checkers.
	"@http": {rsPath + ".http_get", rsPath + ".ssl_get"},
}

var docBlocks = []BlockDoc{
	{Path: "vrrp_instance", Keepalived: "vrrp_instance NAME", Count: "any number",
		Desc: "A VRRP router (RFC 3768 version 2 over IPv4, RFC 5798 version 3 over IPv4 or IPv6): the master holds the virtual addresses, the backups take them over when its adverts stop."},
	{Path: "vrrp_instance.authentication", Keepalived: "authentication", Count: "at most one",
		Desc: "VRRP version 2 simple password authentication (RFC 3768 section 5.3.6). Not allowed with version 3."},
	{Path: "vrrp_instance.track_interface", Keepalived: "track_interface { IF weight N }", Count: "any number, one per interface",
		Desc: "Ties the instance to an interface's link (the label names it): with weight `0` the instance goes to FAULT while the link is down; otherwise the weight is added to the priority while it is up (positive) or while it is down (negative). The instance's own `interface` is tracked with weight 0 unless `dont_track_primary` is set."},
	{Path: "vrrp_instance.track_script", Keepalived: "track_script { NAME weight N }", Count: "any number, one per script",
		Desc: "Ties the instance to the `vrrp_script` the label names: with weight `0` the instance goes to FAULT while the script fails; otherwise the weight is added to the priority while it succeeds (positive) or while it fails (negative). With priority 255 every tracking weight is set to 0 (warned), as keepalived."},
	{Path: "vrrp_script", Keepalived: "vrrp_script NAME", Count: "any number, director files only",
		Desc: "A program run every `interval` whose result `track_script` blocks of instances follow. Run without a shell, in its own process group killed at the end of the run; exit 0 is success, anything else (or a signal, or the timeout) a failure. It runs only when tracked."},
	{Path: "vrrp_instance.track_file", Keepalived: "track_file { NAME weight N [reverse] }", Count: "any number, one per file",
		Desc: "Ties the instance to the `vrrp_track_file` the label names: the priority moves by the file's value times the weight (negated with `reverse`), at most +253; a result at or below -254 puts the instance in FAULT. With weight `0` a non-zero value means FAULT (with `reverse`, a zero value does). With priority 255 the weight is set to 0 (warned)."},
	{Path: "vrrp_track_file", Keepalived: "vrrp_track_file NAME (track_file NAME in keepalived 2.2)", Count: "any number, director files only",
		Desc: "A file holding an integer that `track_file` blocks of instances follow, watched with inotify on its directory, so a file written in place, replaced by rename, deleted or created later is seen at once. It is read as keepalived does (C's `strtol`, base 0: `0x1f` is hex, `010` octal, text after the number ignored); a missing or unreadable file, or one without a number, counts as 0; a number outside -2^31..2^31 is ignored (the previous value stays). The directory must exist; while it does not (or after it was removed) the file counts as 0 and its watch is retried every 5 seconds."},
	{Path: "vrrp_instance.track_process", Keepalived: "track_process { NAME weight N [reverse] }", Count: "any number, one per process",
		Desc: "Ties the instance to the `vrrp_track_process` the label names, with `track_script`'s rules: with weight `0` the instance goes to FAULT while the process is down (with `reverse`: while it is up); otherwise the weight is added while it is up (positive) or while it is down (negative), negated by `reverse`. With priority 255 the weight is set to 0 (warned)."},
	{Path: "vrrp_track_process", Keepalived: "vrrp_track_process NAME", Count: "any number, director files only",
		Desc: "A process `track_process` blocks of instances follow: it is up while between `quorum` and `quorum_max` processes match. Processes are found by scanning /proc once a second (keepalived follows netlink process events instead; a director scanning 300 processes used 0.45% of a core), so a change is seen within a second plus the delays."},
	{Path: "vrrp_sync_group", Keepalived: "vrrp_sync_group NAME", Count: "any number, director files only",
		Desc: "Instances that change state together: all are in FAULT while any member is, and when one becomes MASTER or gives mastership up the others follow, so that the addresses of related instances stay on one node. An instance is in at most one group. Without `sync_group_tracking_weight` the members' own tracking weights are set to 0 (warned): a failing tracked object puts the group in FAULT (keepalived does the same for `track_interface` and ignores weighted `track_script` and `track_file` entries altogether)."},
	{Path: "vrrp_sync_group.track_interface", Keepalived: "track_interface { IF weight N }", Count: "any number, one per interface",
		Desc: "A link every member tracks, as the instance's `track_interface`; its weight applies to every member (keepalived 2.x's sync group tracking). A member tracking the same interface itself keeps its own entry (warned)."},
	{Path: "vrrp_sync_group.track_script", Keepalived: "track_script { NAME weight N }", Count: "any number, one per script",
		Desc: "A `vrrp_script` every member tracks, as the instance's `track_script` (one run of the script serves every member)."},
	{Path: "vrrp_sync_group.track_file", Keepalived: "track_file { NAME weight N [reverse] }", Count: "any number, one per file",
		Desc: "A `vrrp_track_file` every member tracks, as the instance's `track_file`."},
	{Path: "vrrp_sync_group.track_process", Keepalived: "track_process { NAME weight N [reverse] }", Count: "any number, one per process",
		Desc: "A `vrrp_track_process` every member tracks, as the instance's `track_process`."},
	{Path: "virtual_server_group", Keepalived: "virtual_server_group NAME", Count: "any number, director files only",
		Desc: "A set of service addresses and firewall marks for the `virtual_server` blocks naming it with `group`: one IPVS service per entry, with that block's settings and real servers. A file with groups is parsed whole on each reload (no reuse of the unchanged parts)."},
	{Path: "virtual_server", Keepalived: "virtual_server IP PORT", Count: "any number",
		Desc: "An IPVS service: the address clients connect to, balanced to its real servers. Both directors of a pair program it (hot standby); only the VRRP master receives the traffic."},
	{Path: rsPath, Keepalived: "real_server IP PORT", Count: "any number",
		Desc: "A destination of the service. It is in IPVS while all its checkers are up (a server without checkers is always up)."},
	{Path: rsPath + ".tcp_check", Keepalived: "TCP_CHECK", Count: "at most one",
		Desc: "Up when a TCP handshake with the target completes; nothing is sent."},
	{Path: rsPath + ".mysql_check", Count: "at most one",
		Desc: "Logs in over the MySQL protocol on a fresh connection each time; optionally runs a query, checks `@@global.read_only` and replication. keepalived needs a MISC_CHECK script for this."},
	{Path: rsPath + ".mysql_check.replication", Count: "at most one",
		Desc: "Checks `SHOW SLAVE STATUS` (`SHOW REPLICA STATUS` on MySQL 8.4): both replication threads running and the lag known and at most `max_lag`. Without the block replication is not checked."},
	{Path: rsPath + ".http_get", Keepalived: "HTTP_GET", Count: "at most one",
		Desc: "One `GET` on a fresh connection (no keep-alive, no redirects, no proxy); up when the status code, and the body if asked, match. A body over 1 MiB fails when `body_regex` or `digest` is set."},
	{Path: rsPath + ".ssl_get", Keepalived: "SSL_GET", Count: "at most one",
		Desc: "`http_get` over TLS. Unlike keepalived, the certificate is verified by default."},
	{Path: rsPath + ".misc_check", Keepalived: "MISC_CHECK", Count: "at most one",
		Desc: "Runs a program without a shell, in its own process group killed at the end of the run; exit 0 is up, anything else (or a signal) is down."},
	{Path: rsPath + ".udp_check", Keepalived: "UDP_CHECK", Count: "at most one",
		Desc: "Sends one datagram to the target. A refusal (ICMP port or host unreachable) is down. Without `require_reply`, silence until `connect_timeout` is up, and so is any reply; with it, a reply must come in time and match `reply`, `reply_regex` and the length bounds."},
	{Path: rsPath + ".dns_check", Keepalived: "DNS_CHECK", Count: "at most one",
		Desc: "Sends one DNS query over UDP (class IN, recursion desired); up when the response to it has RCODE NOERROR, even with an empty answer (as keepalived). Another RCODE, an ICMP error or no response within `connect_timeout` is down."},
	{Path: "lvs_timeouts", Keepalived: "lvs_timeouts tcp N tcpfin N udp N", Count: "at most one, director files only",
		Desc: "The kernel's IPVS connection timeouts (keepalived sets them in `global_defs`; `ipvsadm --set`), for every service of the host. Set at start and on reload when they differ from the kernel's, and repaired by every periodic resync (`--resync-interval`) when something else changed them (`ipvsadm --set`), with a `repaired` warning in the log (keepalived sets them once); an attribute left out keeps the kernel's value, and without the block lvsd never touches them."},
	{Path: "lvs_sync_daemon", Keepalived: "global_defs { lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP] }", Count: "at most one, director files only",
		Desc: "The kernel's IPVS connection synchronisation daemon (`ipvsadm --start-daemon`): master while `vrrp_instance` is MASTER, backup in every other state, so the director that takes the VIP over already has the connections in its table and established ones keep their real server (the IPVS sync protocol cannot carry services with destinations of the other address family: the kernel then refuses the daemon). Started with the instance's first state, switched at each transition (the old role stopped first, as keepalived), restarted when a reload changes it, stopped when lvsd stops. `lvsd status` shows the daemons running in the kernel."},
	{Path: "http", Count: "at most one",
		Desc: "The operator's HTTP endpoint, in a director or an agent file: `/stats` (page), `/status.json`, `/metrics` (Prometheus); `/` redirects to `/stats`. Off unless the block is present. HAProxy's `listen stats`; keepalived has none."},
	{Path: "http.user", Count: "any number",
		Desc: "A user allowed to read the endpoint with HTTP basic auth (HAProxy's `stats auth USER:PASS`, with a bcrypt hash instead of the password). Without any, the endpoint needs no authentication (warned when `listen` is not a loopback address). The name must not contain `:`."},
	{Path: "agent", Count: "exactly one, alone in its file but for an `http` block",
		Desc: "`lvsd agent` on a real server of a direct-routing service: keeps one `iptables -t nat PREROUTING -d VIP -j REDIRECT` rule per VIP (`ip6tables` for IPv6), tagged with the comment `lvsd: VIP`, so that traffic for the VIP is accepted locally. keepalived has no equivalent (rc.local scripts)."},
}

var docAttrs = []AttrDoc{
	// vrrp_instance
	{Block: "vrrp_instance", Name: "state", Type: tString, Default: `"BACKUP"`, Keepalived: "state",
		Desc: "`MASTER` or `BACKUP`: the start state wished for. With `nopreempt` the node still starts as backup (keepalived silently drops nopreempt there; lvsd warns)."},
	{Block: "vrrp_instance", Name: "interface", Type: tString, Default: required, Keepalived: "interface",
		Desc: "Interface the adverts go out of and the virtual addresses go on."},
	{Block: "vrrp_instance", Name: "virtual_router_id", Type: tNumber, Default: required, Keepalived: "virtual_router_id",
		Desc: "1-255, unique per interface."},
	{Block: "vrrp_instance", Name: "priority", Type: tNumber, Default: required, Keepalived: "priority",
		Desc: "1-255; 255 is the address owner, which takes over at once."},
	{Block: "vrrp_instance", Name: "nopreempt", Type: tBool, Default: "`false`", Keepalived: "nopreempt",
		Desc: "A higher priority does not take over from a running master."},
	{Block: "vrrp_instance", Name: "advert_int", Type: tDuration, Default: `"1s"`, Keepalived: "advert_int",
		Desc: "Advertisement interval: whole seconds 1-255 with version 2; centiseconds from `\"10ms\"` to `\"40.95s\"` with version 3."},
	{Block: "vrrp_instance", Name: "version", Type: tNumber, Default: "`2` (`3` with IPv6 addresses)", Keepalived: "version",
		Desc: "`2` (RFC 3768, IPv4 only) or `3` (RFC 5798, IPv4 or IPv6, no authentication)."},
	{Block: "vrrp_instance", Name: "virtual_ipaddress", Type: tStrings, Default: required, Keepalived: "virtual_ipaddress",
		Desc: "The virtual addresses the adverts carry, `\"IP\"` or `\"IP/len\"`, all IPv4 or all IPv6 (one instance per family), each optionally followed by `dev IF` (the interface it goes on, default the instance's `interface`: a NAT director's inside gateway address, for example) and `label LABEL` (IPv4 only; the interface's name or `IF:suffix`), as keepalived writes them. IPv6 makes the instance version 3 over IPv6: adverts to ff02::12 from the link-local address, unsolicited neighbour advertisements instead of gratuitous ARP. Gratuitous ARP / neighbour advertisements go out on each address's own interface."},
	{Block: "vrrp_instance", Name: "virtual_ipaddress_excluded", Type: tStrings, Default: "none", Keepalived: "virtual_ipaddress_excluded",
		Desc: "More addresses the master installs and announces, written as `virtual_ipaddress`'s, but not carried in adverts: of either family (IPv6 addresses beside a version 2 instance's IPv4 ones), and never compared with a peer's list. An address may not be in both lists."},
	{Block: "vrrp_instance", Name: "unicast_src_ip", Type: tString, Default: "the interface's primary IPv4 address", Keepalived: "unicast_src_ip",
		Desc: "IPv4 source address of the adverts, and the tie breaker at equal priority."},
	{Block: "vrrp_instance", Name: "mcast_src_ip", Type: tString, Default: "", Keepalived: "mcast_src_ip",
		Desc: "Deprecated alias of `unicast_src_ip` (warned); setting both is an error."},
	{Block: "vrrp_instance", Name: "unicast_peer", Type: tStrings, Default: "none (multicast to 224.0.0.18)", Keepalived: "unicast_peer",
		Desc: "Peers to send adverts to by unicast; adverts from other sources are dropped. IPv4 only. An empty list is an error (keepalived falls back to multicast)."},
	{Block: "vrrp_instance", Name: "preempt_delay", Type: tDuration, Default: "`0`", Keepalived: "preempt_delay",
		Desc: "After startup or becoming backup, a lower-priority master is accepted this long before this node preempts it (0-1000 s)."},
	{Block: "vrrp_instance", Name: "garp_master_delay", Type: tDuration, Default: `"5s"`, Keepalived: "garp_master_delay",
		Desc: "A second burst of gratuitous ARPs (IPv6: neighbour advertisements) this long after becoming master; `0` for none."},
	{Block: "vrrp_instance", Name: "garp_master_repeat", Type: tNumber, Default: "`5`", Keepalived: "garp_master_repeat",
		Desc: "Gratuitous ARPs per virtual address in a burst (1-255)."},
	{Block: "vrrp_instance", Name: "garp_master_refresh", Type: tDuration, Default: "`0` (off)", Keepalived: "garp_master_refresh",
		Desc: "While master, one gratuitous ARP per virtual address this often."},
	{Block: "vrrp_instance", Name: "v3_checksum_as_v2", Type: tBool, Default: "`false`", Keepalived: "v3_checksum_as_v2",
		Desc: "Version 3 only: checksum without the IP pseudo-header, as some vendors do."},

	{Block: "vrrp_instance", Name: "dont_track_primary", Type: tBool, Default: "`false`", Keepalived: "dont_track_primary",
		Desc: "Do not track the link of `interface`: without it the instance goes to FAULT while that link is down."},

	// vrrp_instance, vrrp_sync_group: notify scripts
	{Block: "@notify", Name: "notify_master", Type: tString, Default: "none", Keepalived: "notify_master",
		Desc: "Program run on becoming MASTER: a command line split like `misc_path` (absolute path, no shell). Scripts run one at a time, in the order of the transitions."},
	{Block: "@notify", Name: "notify_backup", Type: tString, Default: "none", Keepalived: "notify_backup",
		Desc: "Program run on becoming BACKUP, as `notify_master`."},
	{Block: "@notify", Name: "notify_fault", Type: tString, Default: "none", Keepalived: "notify_fault",
		Desc: "Program run on going to FAULT, as `notify_master`."},
	{Block: "@notify", Name: "notify_stop", Type: tString, Default: "none", Keepalived: "notify_stop",
		Desc: "Program run when the instance stops, as `notify_master`. Instances only: a sync group has no STOP state, so in a `vrrp_sync_group` it never runs (warned)."},
	{Block: "@notify", Name: "notify", Type: tString, Default: "none", Keepalived: "notify",
		Desc: "Program run on every transition, after the state's own script, with the arguments `INSTANCE` or `GROUP`, the name, the new state and the priority appended."},
	{Block: "@notify", Name: "notify_timeout", Type: tDuration, Default: `"30s"`, Keepalived: "",
		Desc: "Bound of one notify run; its process group is then killed, so a hung script cannot hold the ones queued behind it (keepalived has no bound)."},
	{Block: "@notify", Name: "notify_user", Type: tString, Default: "root", Keepalived: "notify_* SCRIPT USER",
		Desc: "User name or uid to run the notify scripts as, with its groups; resolved at each run."},

	// vrrp_instance.track_interface, vrrp_instance.track_script
	{Block: "@track_interface", Name: "weight", Type: tNumber, Default: "`0` (FAULT while down)", Keepalived: "track_interface { IF weight N }",
		Desc: "-253 to 253: `0` puts the instance in FAULT while the link is down; > 0 is added to the priority while it is up; < 0 while it is down."},
	{Block: "@track_script", Name: "weight", Type: tNumber, Default: "the `vrrp_script`'s `weight`", Keepalived: "track_script { NAME weight N }",
		Desc: "-253 to 253, overriding the script's: `0` puts the instance in FAULT while the script fails; > 0 is added to the priority while it succeeds; < 0 while it fails."},

	// vrrp_script
	{Block: "vrrp_script", Name: "script", Type: tString, Default: required, Keepalived: "script",
		Desc: "Absolute program path and arguments, split like `misc_path` (quotes, backslashes) but run without a shell."},
	{Block: "vrrp_script", Name: "interval", Type: tDuration, Default: `"1s"`, Keepalived: "interval",
		Desc: "Time between runs."},
	{Block: "vrrp_script", Name: "timeout", Type: tDuration, Default: "the `interval`", Keepalived: "timeout",
		Desc: "Bound of one run; the program's process group is then killed and the run fails."},
	{Block: "vrrp_script", Name: "rise", Type: tNumber, Default: "`1`", Keepalived: "rise",
		Desc: "Successes in a row before a failed script is OK again (1-1000)."},
	{Block: "vrrp_script", Name: "fall", Type: tNumber, Default: "`1`", Keepalived: "fall",
		Desc: "Failures in a row before an OK script is failed (1-1000)."},
	{Block: "vrrp_script", Name: "weight", Type: tNumber, Default: "`0` (FAULT while failed)", Keepalived: "weight",
		Desc: "Weight of the `track_script` blocks that set none, -253 to 253 (see `track_script`)."},
	{Block: "vrrp_script", Name: "user", Type: tString, Default: "root", Keepalived: "user",
		Desc: "User name or uid to run the program as, with its groups; resolved at each run."},
	{Block: "vrrp_script", Name: "init_fail", Type: tBool, Default: "`false`", Keepalived: "init_fail",
		Desc: "The script starts failed instead of OK, until `rise` successes."},

	// vrrp_track_file, vrrp_instance.track_file
	{Block: "vrrp_track_file", Name: "file", Type: tString, Default: required, Keepalived: "file",
		Desc: "Absolute path of the file."},
	{Block: "vrrp_track_file", Name: "weight", Type: tNumber, Default: "`1`", Keepalived: "weight",
		Desc: "Weight of the `track_file` blocks that set none, -254 to 254 (see `track_file`)."},
	{Block: "vrrp_track_file", Name: "reverse", Type: tBool, Default: "`false`", Keepalived: "weight N reverse",
		Desc: "Default `reverse` of the `track_file` blocks that set none: the contribution is negated (with weight 0, a zero value means FAULT)."},
	{Block: "vrrp_track_file", Name: "init_file", Type: tNumber, Default: "unset (the file is left alone)", Keepalived: "init_file [VALUE]",
		Desc: "-254 to 254: at start, when the file is missing, it is created holding this value (its directory must exist)."},
	{Block: "vrrp_track_file", Name: "init_file_overwrite", Type: tBool, Default: "`false`", Keepalived: "init_file VALUE overwrite",
		Desc: "With `init_file`: write the value at start even when the file exists (a regular file only). Never on a reload, as keepalived."},
	{Block: "@track_file", Name: "weight", Type: tNumber, Default: "the `vrrp_track_file`'s `weight`", Keepalived: "track_file { NAME weight N }",
		Desc: "-254 to 254, overriding the file's: the priority moves by value x weight; `0` puts the instance in FAULT while the value is not 0."},
	{Block: "@track_file", Name: "reverse", Type: tBool, Default: "the `vrrp_track_file`'s `reverse`", Keepalived: "track_file { NAME weight N reverse }",
		Desc: "Negates value x weight (with weight 0: FAULT while the value is 0)."},

	// vrrp_track_process, vrrp_instance.track_process
	{Block: "vrrp_track_process", Name: "process", Type: tString, Default: required, Keepalived: "process NAME [ARGS...]",
		Desc: "One word: the task name (`comm`: what `ps -o comm` and `pgrep` without `-f` show, at most 15 bytes). With arguments (split like a shell would): the command line, whose first word must equal the first word given and whose arguments follow `param_match`."},
	{Block: "vrrp_track_process", Name: "full_command", Type: tBool, Default: "`false` (`true` with arguments)", Keepalived: "full_command",
		Desc: "Match the command line's first word instead of the task name."},
	{Block: "vrrp_track_process", Name: "param_match", Type: tString, Default: "no argument check; `exact` with arguments", Keepalived: "param_match [initial, partial]",
		Desc: "`exact`: the arguments are exactly those given; `partial`: they start with them; `initial`: as partial, the last one given being a prefix. Implies `full_command`."},
	{Block: "vrrp_track_process", Name: "quorum", Type: tNumber, Default: "`1`", Keepalived: "quorum",
		Desc: "Fewest matching processes for up (1-65535)."},
	{Block: "vrrp_track_process", Name: "quorum_max", Type: tNumber, Default: "unlimited", Keepalived: "quorum_max",
		Desc: "Most matching processes for up (0-65535, not below `quorum`); `0` without `quorum` means up while none runs."},
	{Block: "vrrp_track_process", Name: "weight", Type: tNumber, Default: "`0` (FAULT while down)", Keepalived: "weight",
		Desc: "Weight of the `track_process` blocks that set none, -254 to 254."},
	{Block: "vrrp_track_process", Name: "reverse", Type: tBool, Default: "`false`", Keepalived: "weight N reverse",
		Desc: "Default `reverse` of the `track_process` blocks that set none."},
	{Block: "vrrp_track_process", Name: "delay", Type: tDuration, Default: "`0`", Keepalived: "delay",
		Desc: "Sets both `fork_delay` and `terminate_delay`."},
	{Block: "vrrp_track_process", Name: "fork_delay", Type: tDuration, Default: "`0`", Keepalived: "fork_delay",
		Desc: "The quorum must hold this long before the process counts as up (at most 1h; checked at each scan)."},
	{Block: "vrrp_track_process", Name: "terminate_delay", Type: tDuration, Default: "`0`", Keepalived: "terminate_delay",
		Desc: "The quorum must be lost this long before the process counts as down (at most 1h; checked at each scan)."},
	{Block: "@track_process", Name: "weight", Type: tNumber, Default: "the `vrrp_track_process`'s `weight`", Keepalived: "track_process { NAME weight N }",
		Desc: "-254 to 254, overriding the process's: `0` puts the instance in FAULT while it is down; > 0 is added while it is up; < 0 while it is down."},
	{Block: "@track_process", Name: "reverse", Type: tBool, Default: "the `vrrp_track_process`'s `reverse`", Keepalived: "track_process { NAME weight N reverse }",
		Desc: "Negates the weight (with weight 0: FAULT while the process is up)."},

	// vrrp_sync_group (its notify* attributes are with vrrp_instance's)
	{Block: "vrrp_sync_group", Name: "group", Type: tStrings, Default: required, Keepalived: "group { NAME ... }",
		Desc: "Names of the member `vrrp_instance` blocks; each must exist and be in no other group."},
	{Block: "vrrp_sync_group", Name: "sync_group_tracking_weight", Type: tBool, Default: "`false`", Keepalived: "sync_group_tracking_weight",
		Desc: "Keep the members' own tracking weights (they change each member's priority). Off, they are set to 0 as keepalived does, because members whose priorities move apart can leave each node's group waiting for a member that will not become MASTER."},

	// vrrp_instance.authentication
	{Block: "vrrp_instance.authentication", Name: "auth_type", Type: tString, Default: required, Keepalived: "auth_type",
		Desc: "`PASS` or `NONE` (`AH` is refused)."},
	{Block: "vrrp_instance.authentication", Name: "auth_pass", Type: tString, Default: "required with `PASS`", Keepalived: "auth_pass",
		Desc: "At most 8 bytes (keepalived truncates longer ones silently; lvsd refuses them). Never logged nor shown by `lvsd status`."},

	// virtual_server
	{Block: "virtual_server", Name: "address", Type: tAddrPort, Default: required, Keepalived: "virtual_server IP PORT",
		Desc: "Service address, `\"[IPv6]:PORT\"` for IPv6; unique per protocol. Required unless `fwmark` is set (not both)."},
	{Block: "virtual_server", Name: "fwmark", Type: tNumber, Default: "none (an `address` service)", Keepalived: "virtual_server fwmark N",
		Desc: "Instead of `address`: a firewall-mark service (`ipvsadm -f N`), 1-4294967295, for packets the firewall marked N whatever their address and port. Its real servers may omit the port; their checkers then need `connect_port`."},
	{Block: "virtual_server", Name: "ip_family", Type: tString, Default: "IPv4 (`inet`)", Keepalived: "ip_family",
		Desc: "`fwmark` services only (an error with `address`, and with a `group` that has addresses): `inet` or `inet6`. keepalived also guesses it from the first real server."},
	{Block: "virtual_server", Name: "group", Type: tString, Default: "none (one service)", Keepalived: "virtual_server group NAME",
		Desc: "Instead of `address` or `fwmark`: a `virtual_server_group`, defined anywhere in the file. The block programs one IPVS service per address and firewall mark of the group, all with this block's settings and real servers, each named `NAME/ADDRESS` (`NAME/fwmark:N`) in `lvsd status`, `lvsd drain` and the metrics; the shared real servers are checked once. Quorum scripts run per service."},
	{Block: "virtual_server", Name: "protocol", Type: tString, Default: `"TCP"`, Keepalived: "protocol",
		Desc: "`TCP`, `UDP` or `SCTP`."},
	{Block: "virtual_server", Name: "lvs_sched", Type: tString, Default: `"wlc"`, Keepalived: "lvs_sched",
		Desc: "IPVS scheduler: rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh."},
	{Block: "virtual_server", Name: "lvs_flags", Type: tStrings, Default: "none", Keepalived: "sh-port, sh-fallback, mh-port, mh-fallback, flag-1..3, ops",
		Desc: "Scheduler flags (`ipvsadm -b`, `--ops`), keepalived's flag keywords as a list: `sh-*` only with `lvs_sched` `sh`, `mh-*` only with `mh`, `flag-1..3` with any, `ops` (one-packet scheduling) only for UDP and fwmark services."},
	{Block: "virtual_server", Name: "lb_algo", Type: tString, Default: "", Keepalived: "lb_algo",
		Desc: "Deprecated alias of `lvs_sched` (warned)."},
	{Block: "virtual_server", Name: "lvs_method", Type: tString, Default: `"NAT"`, Keepalived: "lvs_method",
		Desc: "Forwarding method, the real servers' default: `NAT`, `DR` or `TUN`."},
	{Block: "virtual_server", Name: "lb_kind", Type: tString, Default: "", Keepalived: "lb_kind",
		Desc: "Deprecated alias of `lvs_method` (warned)."},
	{Block: "virtual_server", Name: "tun_type", Type: tString, Default: "none (the kernel's ipip)", Keepalived: "lvs_method TUN type ipip",
		Desc: "With `TUN` only: `ipip` is accepted; `gue` and `gre` are refused (moby/ipvs, through which lvsd programs IPVS, cannot send the tunnel type)."},
	{Block: "virtual_server", Name: "tun_port", Type: tNumber, Default: "none", Keepalived: "lvs_method TUN type gue port N",
		Desc: "Always refused: only meaningful for GUE tunnels, which lvsd cannot program."},
	{Block: "virtual_server", Name: "delay_loop", Type: tDuration, Default: `"60s"`, Keepalived: "delay_loop",
		Desc: "Interval between health checks, the default of every checker below."},
	{Block: "virtual_server", Name: "persistence_timeout", Type: tDuration, Default: "none (not persistent)", Keepalived: "persistence_timeout",
		Desc: "IPVS persistence (`ipvsadm -p`): whole seconds, 1 to 2147483."},
	{Block: "virtual_server", Name: "persistence_granularity", Type: "string or number", Default: "the whole address", Keepalived: "persistence_granularity",
		Desc: "Clients sharing persistence (`ipvsadm -M`): an IPv4 netmask such as `\"255.255.255.0\"` or a prefix length (IPv6 1-128)."},
	{Block: "virtual_server", Name: "inhibit_on_failure", Type: tBool, Default: "`false`", Keepalived: "inhibit_on_failure",
		Desc: "Default of the real servers' `inhibit_on_failure`."},
	{Block: "virtual_server", Name: "sorry_server", Type: tAddrPort, Default: "none", Keepalived: "sorry_server IP PORT",
		Desc: "Added (weight 1) while the quorum is lost, i.e. with the default `quorum` while no real server is up; the live real servers are taken out meanwhile. Of the service's address family (not even `TUN` mixes them)."},
	{Block: "virtual_server", Name: "sorry_server_inhibit", Type: tBool, Default: "`false`", Keepalived: "sorry_server_inhibit",
		Desc: "Keep the sorry server in IPVS with weight 0 while it is not needed instead of removing it."},
	{Block: "virtual_server", Name: "sorry_server_lvs_method", Type: tString, Default: "the virtual server's `lvs_method`", Keepalived: "sorry_server_lvs_method",
		Desc: "`NAT`, `DR` or `TUN` for the sorry server."},
	{Block: "virtual_server", Name: "quorum", Type: tNumber, Default: "`1`", Keepalived: "quorum",
		Desc: "The quorum holds while the weights of the live real servers sum to at least this (1-2147483647)."},
	{Block: "virtual_server", Name: "hysteresis", Type: tNumber, Default: "`0`", Keepalived: "hysteresis",
		Desc: "The quorum is gained at `quorum + hysteresis` and lost below `quorum - hysteresis`; a value not below an explicit `quorum` is warned."},
	{Block: "virtual_server", Name: "quorum_up", Type: tString, Default: "none", Keepalived: "quorum_up",
		Desc: "Program run when the quorum is gained: a command line split like `misc_path` (absolute path, no shell), 30 s timeout."},
	{Block: "virtual_server", Name: "quorum_down", Type: tString, Default: "none", Keepalived: "quorum_down",
		Desc: "Program run when the quorum is lost, as `quorum_up`; also at start when the quorum is down and a sorry server is set."},
	{Block: "virtual_server", Name: "alpha", Type: tBool, Default: "`false`", Keepalived: "alpha",
		Desc: "Real servers with checkers start down and join after their first passing check; without it they start up."},
	{Block: "virtual_server", Name: "omega", Type: tBool, Default: "`false`", Keepalived: "omega",
		Desc: "When lvsd stops, `quorum_down` runs for this virtual server."},
	{Block: "virtual_server", Name: "drain_timeout", Type: tDuration, Default: `"5m"`, Keepalived: "",
		Desc: "A real server removed from the file (or drained with `lvsd drain`) is kept with weight 0 until its connections end or this long; `0` deletes a removed server at once, as keepalived does."},

	// real_server
	{Block: rsPath, Name: "address", Type: tAddrPort, Default: required, Keepalived: "real_server IP PORT",
		Desc: "Destination address, of the service's address family (not even `TUN` mixes them); with DR and TUN the port is the service's whatever is written (warned). A `fwmark` service's may omit the port (`\"IP\"`: the client's port is kept)."},
	{Block: rsPath, Name: "weight", Type: tNumber, Default: "`1`", Keepalived: "weight",
		Desc: "IPVS weight, 0-65535."},
	{Block: rsPath, Name: "inhibit_on_failure", Type: tBool, Default: "the virtual server's", Keepalived: "inhibit_on_failure",
		Desc: "While down the server stays in IPVS with weight 0 instead of being removed, so its connections finish."},
	{Block: rsPath, Name: "lvs_method", Type: tString, Default: "the virtual server's", Keepalived: "lvs_method",
		Desc: "`NAT`, `DR` or `TUN` for this real server."},
	{Block: rsPath, Name: "lb_kind", Type: tString, Default: "", Keepalived: "lb_kind",
		Desc: "Deprecated alias of `lvs_method` (warned)."},
	{Block: rsPath, Name: "uthreshold", Type: tNumber, Default: "`0` (none)", Keepalived: "uthreshold",
		Desc: "No new connections while the server has this many (`ipvsadm -x`), 0-4294967295."},
	{Block: rsPath, Name: "lthreshold", Type: tNumber, Default: "`0` (none)", Keepalived: "lthreshold",
		Desc: "New connections again below this many (`ipvsadm -y`); must not exceed `uthreshold`, the kernel refuses it."},
	{Block: rsPath, Name: "tun_type", Type: tString, Default: "none (the kernel's ipip)", Keepalived: "lvs_method TUN type ipip",
		Desc: "As the virtual server's: with `TUN` only, and only `ipip`."},
	{Block: rsPath, Name: "tun_port", Type: tNumber, Default: "none", Keepalived: "lvs_method TUN type gue port N",
		Desc: "Always refused, as the virtual server's."},
	{Block: rsPath, Name: "notify_up", Type: tString, Default: "none", Keepalived: "notify_up",
		Desc: "Program run when the server comes up (all its checkers pass): a command line split like `misc_path` (absolute path, no shell). The scripts of all servers run one at a time, in the order of the transitions, each killed after 10 s."},
	{Block: rsPath, Name: "notify_down", Type: tString, Default: "none", Keepalived: "notify_down",
		Desc: "Program run when the server goes down, as `notify_up`."},

	// every checker
	{Block: "@retry1", Name: "retry", Type: tNumber, Default: "`1`", Keepalived: "retry",
		Desc: "Failed attempts retried before the checker says down."},
	{Block: rsPath + ".dns_check", Name: "retry", Type: tNumber, Default: "`3`", Keepalived: "retry",
		Desc: "Failed attempts retried before the checker says down (keepalived's DNS_CHECK default)."},
	{Block: "@checkers", Name: "nb_get_retry", Type: tNumber, Default: "", Keepalived: "nb_get_retry",
		Desc: "Deprecated alias of `retry` (warned)."},
	{Block: "@checkers", Name: "fall", Type: tNumber, Default: "`retry` + 1", Keepalived: "",
		Desc: "Failed attempts in a row before down, HAProxy's way of saying `retry`; set one of them, not both."},
	{Block: "@checkers", Name: "rise", Type: tNumber, Default: "`1`", Keepalived: "",
		Desc: "Successes in a row, `delay_loop` apart, before a down checker is up again (1-1000)."},
	{Block: "@checkers", Name: "delay_before_retry", Type: tDuration, Default: `"1s"`, Keepalived: "delay_before_retry",
		Desc: "Pause before a retry; `0` retries at once."},
	{Block: "@checkers", Name: "delay_loop", Type: tDuration, Default: "the virtual server's", Keepalived: "delay_loop",
		Desc: "Interval between checks."},
	{Block: "@checkers", Name: "warmup", Type: tDuration, Default: "the `delay_loop`", Keepalived: "warmup",
		Desc: "The first check comes after a random delay up to this, so that checkers started together spread out; `0` checks at once."},
	{Block: "@connecting", Name: "connect_timeout", Type: tDuration, Default: `"5s"`, Keepalived: "connect_timeout",
		Desc: "Bound of one attempt: connect and handshake, then the queries, the request and body, or the datagram and its reply."},
	{Block: "@connecting", Name: "connect_ip", Type: tString, Default: "the real server's", Keepalived: "connect_ip",
		Desc: "Address to check instead of the real server's."},
	{Block: "@connecting", Name: "connect_port", Type: tNumber, Default: "the real server's", Keepalived: "connect_port",
		Desc: "Port to check instead of the real server's."},
	{Block: "@connecting", Name: "bindto", Type: tString, Default: "the kernel's choice", Keepalived: "bindto",
		Desc: "Source address of the probe: an address of this host, of the target's family (an error otherwise). An address the host does not have fails the check, with `bind: cannot assign requested address` in `lvsd status`."},
	{Block: "@connecting", Name: "bind_port", Type: tNumber, Default: "an ephemeral port", Keepalived: "bind_port",
		Desc: "Source port of the probe (1-65535), with `bindto` or alone (any address). The socket is reused at once (`SO_REUSEADDR`) and a TCP probe ends with a reset rather than waiting in TIME_WAIT, so the next probe can bind the same port."},

	// mysql_check
	{Block: rsPath + ".mysql_check", Name: "user", Type: tString, Default: required,
		Desc: "Account to log in with."},
	{Block: rsPath + ".mysql_check", Name: "password", Type: tString, Default: "none",
		Desc: "Its password. Never logged nor shown by `lvsd status`."},
	{Block: rsPath + ".mysql_check", Name: "query", Type: tString, Default: "none",
		Desc: "A query that must return at least one row."},
	{Block: rsPath + ".mysql_check", Name: "read_only", Type: tBool, Default: "not checked",
		Desc: "`@@global.read_only` must equal it."},
	{Block: rsPath + ".mysql_check.replication", Name: "max_lag", Type: tDuration, Default: `"30s"`,
		Desc: "Largest `Seconds_Behind_Master` accepted; `0` accepts no lag."},

	// http_get, ssl_get
	{Block: "@http", Name: "path", Type: tString, Default: `"/"`, Keepalived: "url { path }",
		Desc: "Request path, may carry a query."},
	{Block: "@http", Name: "status_code", Type: "list of numbers", Default: "`[200]`", Keepalived: "url { status_code }",
		Desc: "Accepted status codes, each 100-599."},
	{Block: "@http", Name: "body_regex", Type: tString, Default: "none", Keepalived: "url { regex }",
		Desc: "RE2 expression the body must match."},
	{Block: "@http", Name: "digest", Type: tString, Default: "none", Keepalived: "url { digest }",
		Desc: "MD5 of the body as 32 hex digits (`md5sum` or `genhash` output)."},
	{Block: "@http", Name: "virtualhost", Type: tString, Default: "none", Keepalived: "virtualhost",
		Desc: "`Host` header."},
	{Block: rsPath + ".ssl_get", Name: "ca_file", Type: tString, Default: "the system's CAs",
		Desc: "PEM file of the CAs to trust, read at each check (an unreadable file fails the check, with the reason)."},
	{Block: rsPath + ".ssl_get", Name: "server_name", Type: tString, Default: "`virtualhost`, else the IP", Keepalived: "enable_sni",
		Desc: "SNI and the name the certificate must carry."},
	{Block: rsPath + ".ssl_get", Name: "insecure_skip_verify", Type: tBool, Default: "`false`",
		Desc: "`true` turns certificate verification off, as keepalived always does (warned)."},

	// misc_check
	{Block: rsPath + ".misc_check", Name: "misc_path", Type: tString, Default: required, Keepalived: "misc_path",
		Desc: "Absolute program path and arguments, split like a shell would (quotes, backslashes) but run without one: no expansion, redirection or pipes."},
	{Block: rsPath + ".misc_check", Name: "misc_timeout", Type: tDuration, Default: "the `delay_loop`", Keepalived: "misc_timeout",
		Desc: "Bound of one run; the program's process group is then killed and the check fails."},
	{Block: rsPath + ".misc_check", Name: "misc_dynamic", Type: tBool, Default: "`false`", Keepalived: "misc_dynamic",
		Desc: "Exit codes 2-255 are up with IPVS weight code - 2 (0 is up with the configured weight, 1 down), as keepalived."},
	{Block: rsPath + ".misc_check", Name: "user", Type: tString, Default: "root", Keepalived: "user",
		Desc: "User name or uid to run the program as, with its groups; resolved at each run."},

	// udp_check: keepalived's UDP_CHECK
	{Block: rsPath + ".udp_check", Name: "payload", Type: tString, Default: "none (an empty datagram)", Keepalived: "payload",
		Desc: "The datagram, as hex bytes (`\"0a1bff\"`; spaces and colons between bytes ignored), at most 65507 bytes."},
	{Block: rsPath + ".udp_check", Name: "require_reply", Type: tBool, Default: "`false`", Keepalived: "require_reply",
		Desc: "A reply must come within `connect_timeout`; needed by the four attributes below."},
	{Block: rsPath + ".udp_check", Name: "reply", Type: tString, Default: "none", Keepalived: "require_reply HEX",
		Desc: "Hex bytes the reply must start with; not longer than `max_reply_length`."},
	{Block: rsPath + ".udp_check", Name: "reply_regex", Type: tString, Default: "none", Keepalived: "",
		Desc: "RE2 expression the reply must match."},
	{Block: rsPath + ".udp_check", Name: "min_reply_length", Type: tNumber, Default: "`0`", Keepalived: "min_reply_length",
		Desc: "Shortest reply accepted, bytes (0-65535)."},
	{Block: rsPath + ".udp_check", Name: "max_reply_length", Type: tNumber, Default: "`255`", Keepalived: "max_reply_length",
		Desc: "Longest reply accepted, bytes (0-65535); not below `min_reply_length`."},

	// dns_check: keepalived's DNS_CHECK
	{Block: rsPath + ".dns_check", Name: "type", Type: tString, Default: `"SOA"`, Keepalived: "type",
		Desc: "Query type: `A`, `NS`, `CNAME`, `SOA`, `MX`, `TXT` or `AAAA` (any case)."},
	{Block: rsPath + ".dns_check", Name: "name", Type: tString, Default: `"."`, Keepalived: "name",
		Desc: "Name queried, such as `\"example.com\"`; `\".\"` is the root."},

	// lvs_timeouts: the kernel's defaults are IP_VS_TCP_S_ESTABLISHED,
	// IP_VS_TCP_S_FIN_WAIT and IP_VS_UDP_S_NORMAL (ip_vs_proto_{tcp,udp}.c).
	{Block: "virtual_server_group", Name: "addresses", Type: tStrings, Default: required, Keepalived: "IP PORT, IP-LAST PORT, IP/LEN PORT",
		Desc: "Service addresses, one family: `\"IP:PORT\"` (`\"[IPv6]:PORT\"`), a range of the last byte (IPv4, `\"198.51.100.40-45:80\"`) or of the last group (IPv6, hex: `\"[2001:db8::1-ff]:80\"`), or a network (`\"198.51.100.32/30:80\"`, every address of it, as keepalived), at most 65536 in all. Required unless `fwmarks` is set."},
	{Block: "virtual_server_group", Name: "fwmarks", Type: "list of numbers", Default: "none", Keepalived: "fwmark N",
		Desc: "Firewall marks (numbers, 1-4294967295), each a firewall-mark service in the family of the group's addresses (or the `virtual_server`'s `ip_family` when the group has none)."},
	{Block: "lvs_sync_daemon", Name: "interface", Type: tString, Default: required, Keepalived: "lvs_sync_daemon IF",
		Desc: "Interface the sync multicast goes out on and is received from."},
	{Block: "lvs_sync_daemon", Name: "vrrp_instance", Type: tString, Default: required, Keepalived: "lvs_sync_daemon IF INSTANCE",
		Desc: "The `vrrp_instance` whose state the daemon follows; it must be in the file."},
	{Block: "lvs_sync_daemon", Name: "sync_id", Type: tNumber, Default: "the instance's `virtual_router_id`", Keepalived: "id N",
		Desc: "0-255: tells the sync streams of several director pairs on one network apart (the backup keeps only its id's)."},
	{Block: "lvs_sync_daemon", Name: "maxlen", Type: tNumber, Default: "the kernel's (from the interface MTU)", Keepalived: "maxlen N",
		Desc: "1-65507: UDP payload size of a sync message."},
	{Block: "lvs_sync_daemon", Name: "group", Type: tString, Default: "the kernel's (`224.0.0.81`)", Keepalived: "group IP",
		Desc: "IPv4 or IPv6 multicast group of the sync messages."},
	{Block: "lvs_sync_daemon", Name: "port", Type: tNumber, Default: "the kernel's (8848)", Keepalived: "port N",
		Desc: "1-65535: UDP port of the sync messages."},
	{Block: "lvs_sync_daemon", Name: "ttl", Type: tNumber, Default: "the kernel's (1)", Keepalived: "ttl N",
		Desc: "1-255: multicast TTL of the sync messages."},
	{Block: "lvs_timeouts", Name: "tcp", Type: tDuration, Default: "the kernel's (900 s)", Keepalived: "lvs_timeouts tcp N",
		Desc: "Established TCP connections; whole seconds, 1 to 2147483."},
	{Block: "lvs_timeouts", Name: "tcpfin", Type: tDuration, Default: "the kernel's (120 s)", Keepalived: "lvs_timeouts tcpfin N",
		Desc: "TCP connections after a FIN; as `tcp`."},
	{Block: "lvs_timeouts", Name: "udp", Type: tDuration, Default: "the kernel's (300 s)", Keepalived: "lvs_timeouts udp N",
		Desc: "UDP; as `tcp`."},

	// http
	{Block: "http", Name: "listen", Type: tAddrPort, Default: required,
		Desc: "TCP address to serve on (HAProxy's `bind`), `\"[IPv6]:PORT\"` for IPv6."},
	{Block: "http", Name: "realm", Type: tString, Default: `"lvsd"`,
		Desc: "Basic-auth realm (`stats realm`): 1-64 printable ASCII characters without `\"` or `\\`."},
	{Block: "http", Name: "refresh", Type: tDuration, Default: `"10s"`,
		Desc: "Auto-refresh of `/stats` (`stats refresh`): whole seconds up to `\"1h\"`; `0` turns it off."},
	{Block: "http", Name: "show_version", Type: tBool, Default: "`false`",
		Desc: "Show lvsd's version on `/stats`, in `/status.json` and as `lvsd_build_info` (HAProxy shows it unless `stats hide-version`)."},
	{Block: "http", Name: "metrics_auth", Type: tBool, Default: "`true` when a `user` is set, else `false`",
		Desc: "Whether `/metrics` needs the users' credentials too; `false` leaves it open to a scraper without them. `true` without a `user` block is an error."},
	{Block: "http.user", Name: "password_bcrypt", Type: tString, Default: required,
		Desc: "bcrypt hash of the password (`$2a$`, `$2b$` or `$2y$`, cost 4-31): the part after `:` of `htpasswd -nBC 10 NAME`. Never logged nor shown."},
	{Block: "http.user", Name: "password", Type: tString, Default: "",
		Desc: "Refused with an error: passwords are stored as bcrypt hashes only (`password_bcrypt`)."},

	// agent
	{Block: "agent", Name: "vips", Type: tStrings, Default: required,
		Desc: "The VIPs to accept locally, plain addresses (IPv4 or IPv6)."},
}

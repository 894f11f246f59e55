package main

import (
	"strconv"

	"github.com/lvsd/lvsd/ipvs"
	"github.com/prometheus/client_golang/prometheus"
)

// lvsdCollector turns the daemon's status into Prometheus metrics at
// scrape time: every value is read from the same statusDoc the control
// socket serves (the VRRP instances', health manager's and kernel's own
// counters), so nothing is counted twice and nothing can drift.
type lvsdCollector struct {
	e *httpEndpoint
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("lvsd_"+name, help, labels, nil)
}

var (
	vrrpLabels = []string{"instance", "vrid", "interface"}
	vsLabels   = []string{"vs", "protocol", "address"}
	rsLabels   = []string{"vs", "protocol", "address", "rs", "rs_address"}

	mBuildInfo = desc("build_info", "lvsd's version (only with show_version = true).", "version")
	mStartTime = desc("start_time_seconds", "When the daemon started, seconds since the epoch.")

	mConfigInfo       = desc("config_info", "The running configuration: file and sha256 of its bytes.", "file", "sha256")
	mConfigLoaded     = desc("config_loaded_timestamp_seconds", "When the running configuration was loaded.")
	mReloads          = desc("config_reloads_total", "Reloads since start, by result (success: the new file runs; failure: refused, the old one kept).", "result")
	mLastReloadOK     = desc("config_last_reload_successful", "1 if the last reload was applied, 0 if it was refused (absent before the first reload).")
	mLastReloadTime   = desc("config_last_reload_timestamp_seconds", "When the last reload was attempted.")
	mVRRPState        = desc("vrrp_state", "1 for the instance's current VRRP state, 0 for the others.", append(vrrpLabels, "state")...)
	mVRRPPriority     = desc("vrrp_priority", "Configured VRRP priority.", vrrpLabels...)
	mVRRPEffPriority  = desc("vrrp_effective_priority", "Priority sent in adverts.", vrrpLabels...)
	mVRRPRx           = desc("vrrp_adverts_received_total", "Valid VRRP adverts received.", vrrpLabels...)
	mVRRPTx           = desc("vrrp_adverts_sent_total", "VRRP adverts sent.", vrrpLabels...)
	mVRRPDrops        = desc("vrrp_drops_total", "VRRP packets dropped, by reason.", append(vrrpLabels, "reason")...)
	mVRRPTransitions  = desc("vrrp_transitions_total", "VRRP state changes.", vrrpLabels...)
	mVRRPLastTrans    = desc("vrrp_last_transition_timestamp_seconds", "When the instance last changed state.", vrrpLabels...)
	mVSInKernel       = desc("virtual_server_in_kernel", "1 if the virtual server is in the kernel IPVS table.", vsLabels...)
	mRSUp             = desc("real_server_up", "1 if the real server's checks pass (or it has none), 0 if down.", rsLabels...)
	mRSChecked        = desc("real_server_checked", "1 if the real server has health checks.", rsLabels...)
	mRSTransitions    = desc("real_server_check_transitions_total", "Health check state changes of the real server.", rsLabels...)
	mRSWeight         = desc("real_server_weight", "Configured weight.", rsLabels...)
	mRSKernelWeight   = desc("real_server_kernel_weight", "Weight in the kernel IPVS table (absent when the server is not in it).", rsLabels...)
	mRSInKernel       = desc("real_server_in_kernel", "1 if the real server is a destination in the kernel IPVS table.", rsLabels...)
	mRSActive         = desc("real_server_active_connections", "Active connections (kernel).", rsLabels...)
	mRSInactive       = desc("real_server_inactive_connections", "Inactive connections (kernel).", rsLabels...)
	mIPVSManaged      = desc("ipvs_managed_services", "IPVS services lvsd manages.")
	mIPVSSynced       = desc("ipvs_last_sync_timestamp_seconds", "When the IPVS table was last reconciled with the kernel.")
	mIPVSSyncOK       = desc("ipvs_sync_ok", "1 if the last IPVS reconcile succeeded.")
	mIPVSStatsOK      = desc("ipvs_stats_ok", "1 if the kernel IPVS counters could be read.")
	mRulePresent      = desc("agent_rule_present", "1 if the REDIRECT rule of the VIP is in place (agent).", "vip")
	vrrpStates        = []string{"INIT", "BACKUP", "MASTER"}
	counterDescs      = kernelCounterDescs("virtual_server", vsLabels)
	rsCounterDescs    = kernelCounterDescs("real_server", rsLabels)
	allStaticDescs    = []*prometheus.Desc{mBuildInfo, mStartTime, mConfigInfo, mConfigLoaded, mReloads, mLastReloadOK, mLastReloadTime, mVRRPState, mVRRPPriority, mVRRPEffPriority, mVRRPRx, mVRRPTx, mVRRPDrops, mVRRPTransitions, mVRRPLastTrans, mVSInKernel, mRSUp, mRSChecked, mRSTransitions, mRSWeight, mRSKernelWeight, mRSInKernel, mRSActive, mRSInactive, mIPVSManaged, mIPVSSynced, mIPVSSyncOK, mIPVSStatsOK, mRulePresent}
	kernelCounterNote = " (kernel IPVS counters)"
)

// kernelCounters are the IPVS counters and rate estimates of a service or
// destination, as the kernel keeps them (ipvsadm -Ln --stats / --rate).
type kernelCounters struct {
	conns, inPkts, outPkts, inBytes, outBytes *prometheus.Desc // counters
	cps, inPPS, outPPS, inBPS, outBPS         *prometheus.Desc // rates
}

func kernelCounterDescs(prefix string, labels []string) kernelCounters {
	return kernelCounters{
		conns:    desc(prefix+"_connections_total", "Connections scheduled"+kernelCounterNote+".", labels...),
		inPkts:   desc(prefix+"_in_packets_total", "Incoming packets"+kernelCounterNote+".", labels...),
		outPkts:  desc(prefix+"_out_packets_total", "Outgoing packets"+kernelCounterNote+".", labels...),
		inBytes:  desc(prefix+"_in_bytes_total", "Incoming bytes"+kernelCounterNote+".", labels...),
		outBytes: desc(prefix+"_out_bytes_total", "Outgoing bytes"+kernelCounterNote+".", labels...),
		cps:      desc(prefix+"_connections_per_second", "Connection rate estimated by the kernel.", labels...),
		inPPS:    desc(prefix+"_in_packets_per_second", "Incoming packet rate estimated by the kernel.", labels...),
		outPPS:   desc(prefix+"_out_packets_per_second", "Outgoing packet rate estimated by the kernel.", labels...),
		inBPS:    desc(prefix+"_in_bytes_per_second", "Incoming byte rate estimated by the kernel.", labels...),
		outBPS:   desc(prefix+"_out_bytes_per_second", "Outgoing byte rate estimated by the kernel.", labels...),
	}
}

func (k kernelCounters) all() []*prometheus.Desc {
	return []*prometheus.Desc{k.conns, k.inPkts, k.outPkts, k.inBytes, k.outBytes, k.cps, k.inPPS, k.outPPS, k.inBPS, k.outBPS}
}

func (k kernelCounters) collect(ch chan<- prometheus.Metric, c *ipvs.Counters, labels []string) {
	if c == nil {
		return
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	counter(k.conns, c.Conns)
	counter(k.inPkts, c.InPkts)
	counter(k.outPkts, c.OutPkts)
	counter(k.inBytes, c.InBytes)
	counter(k.outBytes, c.OutBytes)
	gauge(k.cps, c.CPS)
	gauge(k.inPPS, c.InPPS)
	gauge(k.outPPS, c.OutPPS)
	gauge(k.inBPS, c.InBPS)
	gauge(k.outBPS, c.OutBPS)
}

func (c *lvsdCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allStaticDescs {
		ch <- d
	}
	for _, d := range counterDescs.all() {
		ch <- d
	}
	for _, d := range rsCounterDescs.all() {
		ch <- d
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *lvsdCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.e.publicStatus()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if st.Version != "" {
		gauge(mBuildInfo, 1, st.Version)
	}
	if !st.Started.IsZero() {
		gauge(mStartTime, float64(st.Started.UnixNano())/1e9)
	}
	gauge(mConfigInfo, 1, st.Config.File, st.Config.SHA256)
	if !st.Config.Loaded.IsZero() {
		gauge(mConfigLoaded, float64(st.Config.Loaded.UnixNano())/1e9)
	}
	rc := c.e.reloads()
	counter(mReloads, float64(rc.OK), "success")
	counter(mReloads, float64(rc.Failed), "failure")
	if r := st.LastReload; r != nil {
		gauge(mLastReloadOK, b2f(r.Applied))
		gauge(mLastReloadTime, float64(r.At.UnixNano())/1e9)
	}

	for _, v := range st.VRRP {
		l := []string{v.Name, strconv.Itoa(int(v.VRID)), v.Interface}
		for _, s := range vrrpStates {
			gauge(mVRRPState, b2f(v.State == s), append(l, s)...)
		}
		gauge(mVRRPPriority, float64(v.Priority), l...)
		gauge(mVRRPEffPriority, float64(v.EffectivePriority), l...)
		counter(mVRRPRx, float64(v.RxAdverts), l...)
		counter(mVRRPTx, float64(v.TxAdverts), l...)
		counter(mVRRPTransitions, float64(v.Transitions), l...)
		if !v.LastTransition.IsZero() {
			gauge(mVRRPLastTrans, float64(v.LastTransition.UnixNano())/1e9, l...)
		}
		for reason, n := range v.Drops {
			counter(mVRRPDrops, float64(n), append(l, reason)...)
		}
	}

	for _, vs := range st.VirtualServers {
		vl := []string{vs.Name, vs.Protocol, vs.Addr.String()}
		gauge(mVSInKernel, b2f(vs.InKernel), vl...)
		counterDescs.collect(ch, vs.Stats, vl)
		for _, rs := range vs.RealServers {
			rl := append(append([]string{}, vl...), rs.Name, rs.Addr.String())
			gauge(mRSUp, b2f(rs.Check != "down"), rl...)
			gauge(mRSChecked, b2f(rs.Check != "none"), rl...)
			counter(mRSTransitions, float64(rs.Transitions), rl...)
			gauge(mRSWeight, float64(rs.Weight), rl...)
			gauge(mRSInKernel, b2f(rs.KernelWeight != nil), rl...)
			if rs.KernelWeight != nil {
				gauge(mRSKernelWeight, float64(*rs.KernelWeight), rl...)
			}
			if rs.Stats != nil {
				gauge(mRSActive, float64(rs.ActiveConns), rl...)
				gauge(mRSInactive, float64(rs.InactConns), rl...)
			}
			rsCounterDescs.collect(ch, rs.Stats, rl)
		}
	}
	if s := st.IPVSSync; s != nil {
		gauge(mIPVSManaged, float64(s.Managed))
		if !s.Synced.IsZero() {
			gauge(mIPVSSynced, float64(s.Synced.UnixNano())/1e9)
		}
		gauge(mIPVSSyncOK, b2f(s.Error == "" && !s.Synced.IsZero()))
		gauge(mIPVSStatsOK, b2f(st.StatsError == ""))
	}
	for _, r := range st.Rules {
		gauge(mRulePresent, b2f(r.Present), r.VIP.String())
	}
}
